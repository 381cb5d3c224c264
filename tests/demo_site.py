"""The demo province (``flask demo load``) as a test site: built once per test session into a
SQLite file, copied for each module that walks it, with one signed-in user per role.

The English walk (``test_pages_english.py``) and the browser journeys
(``test_journeys_browser.py``) use it: every page a role can reach from home, with real data.
"""
from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import pytest

from app import create_app
from app.extensions import db
from tests.conftest import PASSWORD

#: The demo users (``app/auth/demo.py``), one per role.
DEMO_USERS = {"officer": "officer", "coordinator": "coordinator", "depot_manager": "depot",
              "auditor": "auditor", "admin": "admin"}

CONFIG = {"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
          "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "ASSESSMENT_MIN_INTERVAL_SECONDS": 0}


@pytest.fixture(scope="session")
def _demo_database(tmp_path_factory):
    """The demo loaded once into a SQLite file; every demo user's password is ``PASSWORD``."""
    from sqlalchemy import select

    from app import demo
    from app.auth import User

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    app = create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.test_request_context():
        db.create_all()
        for _line in demo.load(lambda _said: None):
            pass
        for user in db.session.scalars(select(User)):
            user.set_password(PASSWORD)
            user.must_change_password = False
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return path


def demo_app(database, tmp_path):
    """An application on a private copy of the demo database."""
    copy = tmp_path / "demo.sqlite"
    shutil.copy(database, copy)
    return create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{copy}",
                       "REPORT_PHOTO_DIR": str(tmp_path / "photos")})


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


#: Paths a walk never follows: the API, files, downloads, sign-out and language switches.
SKIP = re.compile(r"^/(api/|static/|xstatic/|logout|favicon)|\.(xlsx|csv|json|pdf|png|jpg|svg|geojson|zip)$"
                  r"|/(export|download|template)(/|$|\?)")


def links(html: str, base: str) -> list[str]:
    """Same-origin page links of ``html`` (path and query), in document order."""
    parser = _Links()
    parser.feed(html)
    found = []
    for href in parser.hrefs:
        if href.startswith(("#", "mailto:", "javascript:")):
            continue
        url = urlparse(urljoin(base, href))
        if url.netloc not in ("", "localhost", urlparse(base).netloc):
            continue
        path = url.path + (f"?{url.query}" if url.query else "")
        if "lang=" in url.query or SKIP.search(url.path):
            continue
        found.append(path)
    return found


def pattern(path: str) -> str:
    """The URL pattern of a page: numbers, region codes and item/depot codes stand for one
    another, so a walk visits one page of each kind (one event, one depot, ...)."""
    bare, _, query = path.partition("?")
    keys = sorted(part.split("=")[0] for part in query.split("&") if part)
    segments = ["<n>" if re.search(r"[0-9]", s) else s for s in bare.split("/")]
    if segments[1:2] == ["depots"] and len(segments) > 2 and segments[2] not in ("dispatches", "supply-requests"):
        segments[2] = "<x>"
    if segments[1:3] == ["responses", "plans"] and len(segments) > 3:
        segments[3] = "<x>"
    return "/".join(segments) + ("?" + "&".join(keys) if keys else "")
