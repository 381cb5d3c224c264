"""Fixtures as in flaskr: ``app`` (a fresh database per test), ``client``, ``runner``, ``auth``.

``JIUZAI_TEST_DB=postgresql`` runs the database tests on PostgreSQL + PostGIS at 127.0.0.1:5432
(``JIUZAI_TEST_PG_URL`` overrides the server); the suite creates and drops its own database.
Without it the tests use a fresh SQLite file per test. In CI (``CI=true``) an unreachable
PostgreSQL is a failure, never a skip.
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db

TEST_DB = os.environ.get("JIUZAI_TEST_DB", "sqlite")
PG_SERVER = os.environ.get("JIUZAI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "correct-horse-9"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "app" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


def _create_pg_database(prefix: str) -> str:
    """A new PostgreSQL database with PostGIS; returns its URL."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    finally:
        server.dispose()
    url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()
    return url


def _drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture(scope="session")
def _pg_session_url():
    """The database behind the ``app`` fixture in PostgreSQL mode (schema from migrations)."""
    url = _create_pg_database("jiuzai_test")
    yield url
    _drop_pg_database(url)


@pytest.fixture
def pg_url():
    """An empty PostgreSQL + PostGIS database of the test's own, dropped afterwards."""
    url = _create_pg_database("jiuzai_own")
    yield url
    _drop_pg_database(url)


@pytest.fixture(scope="session")
def _pg_schema(request):
    if TEST_DB != "postgresql":
        return None
    url = request.getfixturevalue("_pg_session_url")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        # The PostgreSQL schema comes from the migrations, so every PostgreSQL run tests them.
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def app(tmp_path, _pg_schema):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "ASSESSMENT_MIN_INTERVAL_SECONDS": 0,  # tests see every recompute inline
        "REPORT_PHOTO_DIR": str(tmp_path / "photos"),
        # The tiny test geography (a village of 1,200 people) is far smaller than the figures
        # other areas' tests file (response levels need a million affected): the plausibility
        # limits against the region are off here, and on in tests/test_reports_form_trust.py.
        "REPORT_POPULATION_HARD_SHARE": None,
        "REPORT_POPULATION_SOFT_SHARES": {},
    }
    if _pg_schema:
        config["SQLALCHEMY_DATABASE_URI"] = _pg_schema
    else:
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'test.sqlite'}"
    app = create_app(config)
    with app.app_context():
        if _pg_schema:
            _truncate_all()
        else:
            db.create_all()
        _seed_regions()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _truncate_all():
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    # The audit trigger refuses DELETE, not TRUNCATE: a fresh database per test stays possible.
    db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.session.commit()


def _seed_regions():
    """A tiny geography: Shanxi with Taiyuan (小店区 with one township and two villages) and
    Datong, plus Xinjiang; enough for jurisdiction checks."""
    from tests.factories import seed_geography

    seed_geography()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    """Sign in as a user made on the fly: ``auth.login("officer", region="140105")``."""

    def __init__(self, app, client):
        self._app, self._client = app, client

    def user(self, role: str, region: str = "140000", username: str | None = None):
        from tests.factories import make_user

        with self._app.app_context():
            user = make_user(role, region, username)
            return user.username

    def login(self, role: str = "admin", region: str = "000000", username: str | None = None):
        name = self.user(role, region, username)
        return self._client.post("/login", data={"username": name, "password": PASSWORD})

    def token(self, role: str = "admin", region: str = "000000", username: str | None = None) -> dict:
        name = self.user(role, region, username)
        response = self._client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(app, client):
    return AuthActions(app, client)


pytest_plugins = ["tests.browser"]
