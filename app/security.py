"""Secret key checks, security headers, the HTTPS switch and the reverse-proxy fix.

- ``configure_secret_key(app)``: outside testing, the app refuses to start without a secret key
  of its own. A key may come from ``JIUZAI_SECRET_KEY``, ``instance/config.py`` or the file
  ``instance/secret_key`` (written once, mode 0600, by ``make secret-key``, which ``make run``
  and ``make serve`` call). Empty, short and every key this project ever shipped or documented
  are refused: anyone who knows the key can sign a session cookie for any user.
- ``configure_transport(app)``: ``HTTPS = True`` (``JIUZAI_HTTPS=true``) marks the cookies
  ``Secure``, makes ``url_for(..., _external=True)`` build ``https`` URLs and sends
  ``Strict-Transport-Security``; ``PROXY_FIX`` trusts the ``X-Forwarded-*`` headers of that many
  reverse proxies (werkzeug's ``ProxyFix``).
- ``init_app(app)``: the headers every response carries (Content-Security-Policy without
  inline script, nosniff, no framing, Referrer-Policy).
"""
from __future__ import annotations

import os
import re
import secrets
import stat
from urllib.parse import urlsplit

from flask import Flask, Response

#: Every secret key the project shipped as a default or used in its code, tests, benchmarks or
#: documentation (``git log -p -S SECRET_KEY --all``). Signing a cookie needs only the key, so
#: none of them may ever protect a running server, even if someone makes one long enough.
KNOWN_SECRET_KEYS = frozenset({
    "dev-only-change-me",      # app/config.py, the shipped default until issue 12
    "a long random string",    # README, configuration example
    "test",                    # tests/conftest.py and other tests
    "t",                       # tests/test_cycles_scheduler.py
    "race-test",               # tests/test_depots_concurrency.py (a gunicorn subprocess)
    "bench",                   # bench/*.py
    "dev",                     # Flask's tutorial default, the first thing people paste
})

#: ``secrets.token_hex(32)`` gives 64 characters; 32 (128 bits of hex) is the floor.
MIN_SECRET_KEY_LENGTH = 32
SECRET_KEY_FILE = "secret_key"

_FIX = ("Run `make secret-key` (writes instance/secret_key, mode 0600; `make run` and `make serve` "
        "do it for you), or set JIUZAI_SECRET_KEY to the output of "
        "`python3 -c 'import secrets; print(secrets.token_hex(32))'` (every web and scheduler "
        "process of one installation needs the same key).")


def secret_key_path(app: Flask) -> str:
    return os.path.join(app.instance_path, SECRET_KEY_FILE)


def configure_secret_key(app: Flask) -> None:
    """Read ``instance/secret_key`` when no configuration set a key, then refuse a missing,
    short or known key unless ``TESTING`` is on (the tests use short fixed keys on purpose)."""
    if not app.config.get("SECRET_KEY"):
        path = secret_key_path(app)
        if os.path.exists(path):
            mode = stat.S_IMODE(os.stat(path).st_mode)
            if mode & 0o077:
                app.logger.warning("%s is readable by other users (mode %o); chmod 600 it", path, mode)
            with open(path, encoding="utf-8") as handle:
                app.config["SECRET_KEY"] = handle.read().strip()
    if app.testing:
        if not app.config.get("SECRET_KEY"):
            # a test app that sets no key gets a fresh random one: sessions work, and no fixed
            # key that could leak into a deployment is needed
            app.config["SECRET_KEY"] = secrets.token_hex(32)
        return
    problem = secret_key_problem(app.config.get("SECRET_KEY"))
    # Flask also accepts cookies signed with a SECRET_KEY_FALLBACKS key (key rotation).
    for fallback in app.config.get("SECRET_KEY_FALLBACKS") or []:
        if problem is None and secret_key_problem(fallback):
            problem = "a key in SECRET_KEY_FALLBACKS is refused: " + secret_key_problem(fallback)
    if problem:
        raise RuntimeError(f"Jiuzai will not start: {problem} {_FIX}")


def secret_key_problem(key) -> str | None:
    """Why ``key`` cannot protect a running server, or ``None`` when it can."""
    if not key:
        return "SECRET_KEY is not set (no JIUZAI_SECRET_KEY, instance/config.py or instance/secret_key)."
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
    if text.strip() in KNOWN_SECRET_KEYS:
        return ("SECRET_KEY is a key published with Jiuzai's source, so anyone can sign a session "
                "cookie for any user with it.")
    if len(text) < MIN_SECRET_KEY_LENGTH:
        return f"SECRET_KEY is too short ({len(text)} characters; at least {MIN_SECRET_KEY_LENGTH})."
    return None


# --- transport: HTTPS switch and reverse proxy ---------------------------------------------------

#: ``X-Forwarded-*`` headers trusted when ``PROXY_FIX`` is a number of hops. Host, port and
#: prefix are left out on purpose: a proxy that does not set them would let the client choose
#: them; name them in a dict (``{"x_for": 1, "x_proto": 1, "x_host": 1}``) when yours does.
PROXY_FIX_HEADERS = ("x_for", "x_proto")


def configure_transport(app: Flask) -> None:
    if app.config.get("HTTPS"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"
    hops = app.config.get("PROXY_FIX")
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        if isinstance(hops, dict):
            counts = {key: int(value) for key, value in hops.items()}
        else:
            counts = {key: int(hops) for key in PROXY_FIX_HEADERS}
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)


# --- headers ----------------------------------------------------------------------------------

def tile_source(url: str | None) -> str | None:
    """The CSP source for an XYZ tile template, or ``None`` when 'self' covers it.

    ``https://t{s}.tianditu.gov.cn/...`` → ``https://*.tianditu.gov.cn``; a placeholder anywhere
    but in the leftmost label cannot be expressed as a host, so the scheme alone is allowed."""
    if not url or not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url):
        return None  # a path on this server
    parts = urlsplit(url.replace("{", "%7B").replace("}", "%7D"))
    netloc = parts.netloc.rsplit("@", 1)[-1].replace("%7B", "{").replace("%7D", "}")
    labels = netloc.split(".")
    if "{" in labels[0]:
        labels[0] = "*"
    if any("{" in label for label in labels):
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{'.'.join(labels)}"


def content_security_policy(app: Flask) -> str:
    """No inline script, no eval: every script is a file from this server. Styles allow
    'unsafe-inline': Leaflet and folium position the map with style attributes and ``<style>``
    elements, and the templates use a few ``style=""`` attributes; a style cannot run code."""
    images = ["'self'", "data:", "blob:"]
    tiles = tile_source(app.config.get("MAP_TILES_URL"))
    if tiles:
        images.append(tiles)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": images,
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],  # the field form's service worker (/events/field-sw.js)
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def security_headers(app: Flask) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(app),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",  # for browsers older than CSP frame-ancestors
        "Referrer-Policy": "same-origin",
    }
    if app.config.get("HTTPS"):
        headers["Strict-Transport-Security"] = f"max-age={int(app.config['HSTS_MAX_AGE'])}"
    return headers


def init_app(app: Flask) -> None:
    # Built once per configuration (tests change MAP_TILES_URL on a live app), not per response.
    cache: dict[tuple, dict[str, str]] = {}

    @app.after_request
    def _security_headers(response: Response) -> Response:
        key = (app.config.get("MAP_TILES_URL"), bool(app.config.get("HTTPS")), app.config.get("HSTS_MAX_AGE"))
        headers = cache.get(key)
        if headers is None:
            headers = cache.setdefault(key, security_headers(app))
        # setdefault: a view that needs another policy (a benchmark's baseline page) sets its own.
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
