"""Headers and cookies (issue 12, item 8): the Content-Security-Policy and friends on every
response, no inline script or inline event handler in any template, the HTTPS switch and the
reverse-proxy setting."""
from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from flask import jsonify, request, url_for

from app import create_app
from app.security import tile_source
from tests.conftest import PASSWORD

TEMPLATES = Path(__file__).resolve().parents[1] / "app" / "templates"


def policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@pytest.mark.parametrize("path, status", [
    ("/login", 200),                     # a page
    ("/", 302),                          # a redirect
    ("/api/v1/openapi.json", 200),       # JSON
    ("/api/v1/me", 401),                 # a problem+json error
    ("/no-such-page", 404),              # an error page
    ("/static/jiuzai.js", 200),          # a static file
    ("/events/field-sw.js", 200),        # the field form's service worker
    ("/healthz", 200),
])
def test_every_response_carries_the_security_headers(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]  # Leaflet/folium style attributes
    assert csp["img-src"] == ["'self'", "data:", "blob:"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["worker-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # HTTPS is off by default


def test_the_service_worker_keeps_its_scope_header(client):
    response = client.get("/events/field-sw.js")
    assert response.headers["Service-Worker-Allowed"] == "/events/"
    assert response.mimetype == "text/javascript"


def test_configured_tile_server_is_allowed_for_images(app, client):
    app.config["MAP_TILES_URL"] = "https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&l={z}"
    assert policy(client.get("/login"))["img-src"] == ["'self'", "data:", "blob:", "https://*.tianditu.gov.cn"]
    app.config["MAP_TILES_URL"] = None
    assert policy(client.get("/login"))["img-src"] == ["'self'", "data:", "blob:"]


@pytest.mark.parametrize("url, source", [
    (None, None),
    ("/tiles/{z}/{x}/{y}.png", None),  # this server: 'self'
    ("http://tiles.intranet:8080/{z}/{x}/{y}.png", "http://tiles.intranet:8080"),
    ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
    ("https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=KEY", "https://*.tianditu.gov.cn"),
    ("https://tiles.{s}.example.org/{z}/{x}/{y}.png", "https:"),  # not expressible as a host
    ("https://user:secret@tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org"),
])
def test_tile_source(url, source):
    assert tile_source(url) == source


def test_a_view_may_set_a_policy_of_its_own(app, client):
    app.add_url_rule("/own-policy", "own_policy", lambda: ("x", 200, {"Content-Security-Policy": "default-src 'none'"}))
    response = client.get("/own-policy")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.I)


@pytest.mark.parametrize("template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")))
def test_no_template_has_inline_script(template):
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(text), "a <script> without src (move it to app/static/)"
    assert not INLINE_HANDLER.search(text), "an inline event handler (use data-* and app/static/jiuzai.js)"
    assert not JAVASCRIPT_URL.search(text)


def test_the_checks_above_can_fail():
    assert INLINE_SCRIPT.search("<script>\nvar a = 1;</script>")
    assert INLINE_SCRIPT.search('<script type="module">')
    assert not INLINE_SCRIPT.search('<script src="/static/x.js"></script>')
    assert not INLINE_SCRIPT.search('<script type="application/json" id="c">{}</script>')
    assert INLINE_HANDLER.search('<form method="post" onsubmit="return confirm(1)">')
    assert INLINE_HANDLER.search('<button class="b" onclick="window.print()">')
    assert not INLINE_HANDLER.search('<button data-action="x" data-onclick="y">')


def test_bootstrap_load_js_emits_no_inline_script(app):
    with app.test_request_context():
        from flask import render_template_string

        html = render_template_string("{{ bootstrap.load_js() }}")
    assert html.count("<script") == 2 and not INLINE_SCRIPT.search(html)


# --- HTTPS switch and reverse proxy ------------------------------------------------------------

def _app(tmp_path, monkeypatch, **env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = create_app({"TESTING": True, "SECRET_KEY": secrets.token_hex(32), "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 's.sqlite'}"},
                     instance_path=str(tmp_path / "instance"))

    @app.get("/test-request")
    def _probe():
        return jsonify(remote=request.remote_addr, scheme=request.scheme, host=request.host,
                       external=url_for("main.healthz", _external=True))

    with app.app_context():
        from app.extensions import db
        from tests.factories import make_user

        db.create_all()
        make_user("admin", "000000", "root")
    return app


def test_plain_http_by_default(tmp_path, monkeypatch):
    app = _app(tmp_path, monkeypatch)
    client = app.test_client()
    response = client.post("/login", data={"username": "root", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Strict-Transport-Security" not in response.headers
    # without PROXY_FIX the X-Forwarded-* headers are ignored
    seen = client.get("/test-request", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}).get_json()
    assert seen["remote"] == "127.0.0.1" and seen["scheme"] == "http"


def test_https_switch(tmp_path, monkeypatch):
    app = _app(tmp_path, monkeypatch, JIUZAI_HTTPS="true")
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True
    client = app.test_client()
    response = client.post("/login", data={"username": "root", "password": PASSWORD},
                           base_url="https://jiuzai.example")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    with app.test_request_context():  # PREFERRED_URL_SCHEME, where no request says otherwise
        assert url_for("main.healthz", _external=True).startswith("https://")


def test_proxy_fix_trusts_the_configured_hops_only(tmp_path, monkeypatch):
    app = _app(tmp_path, monkeypatch, JIUZAI_PROXY_FIX="1")
    client = app.test_client()
    seen = client.get("/test-request", headers={
        "X-Forwarded-For": "198.51.100.1, 203.0.113.9",  # the first was sent by the client itself
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}).get_json()
    assert seen["remote"] == "203.0.113.9" and seen["scheme"] == "https"
    assert seen["host"] == "localhost" and seen["external"].startswith("https://localhost/")


def test_proxy_fix_with_named_headers(tmp_path, monkeypatch):
    app = _app(tmp_path, monkeypatch, JIUZAI_PROXY_FIX='{"x_for": 2, "x_proto": 1, "x_host": 1}')
    seen = app.test_client().get("/test-request", headers={
        "X-Forwarded-For": "198.51.100.1, 203.0.113.9", "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "jiuzai.example.gov.cn"}).get_json()
    assert seen["remote"] == "198.51.100.1" and seen["host"] == "jiuzai.example.gov.cn"
