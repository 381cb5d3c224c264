"""``pool_pre_ping`` (issue 12, item 8): a connection the database dropped (a restart, a failover,
an idle timeout) is replaced when the pool hands it out, so the first request afterwards answers
instead of failing with a 500."""
from __future__ import annotations

import secrets

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db
from tests.conftest import PASSWORD, PG_SERVER


def test_engine_options_on_the_test_database(app):
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True
    with app.app_context():
        assert db.engine.pool._pre_ping is True
        if db.engine.dialect.name == "sqlite":
            assert options["connect_args"] == {"timeout": 30}  # kept beside the ping
        else:
            assert "connect_args" not in options


def test_configured_engine_options_are_merged(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e.sqlite'}",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 300}})
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True, "connect_args": {"timeout": 30},
                                                       "pool_recycle": 300}


def _server_app(url: str, pre_ping: bool):
    """The app as gunicorn runs it (TESTING off: an error is a 500 response, not an exception)."""
    options = {} if pre_ping else {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False}}
    app = create_app({"TESTING": False, "SECRET_KEY": secrets.token_hex(32), "RATELIMIT_ENABLED": False,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "SQLALCHEMY_DATABASE_URI": url, **options})
    return app


def _terminate_connections(url: str) -> int:
    """What a database restart does to the app: every connection to its database is closed by
    the server (``pg_terminate_backend``)."""
    name = url.rsplit("/", 1)[1]
    server = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            return conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                     "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name}).scalar()
    finally:
        server.dispose()


@pytest.mark.postgres
def test_requests_survive_terminated_connections_on_postgresql(pg_url):
    from tests.factories import make_user

    app = _server_app(pg_url, pre_ping=True)
    with app.app_context():
        db.create_all()
        make_user("admin", "000000", "root")
    control = _server_app(pg_url, pre_ping=False)
    tokens = {}
    for label, server in (("ping", app), ("no ping", control)):
        token = server.test_client().post("/api/v1/auth/token", json={"username": "root", "password": PASSWORD})
        assert token.status_code == 200, token.get_json()
        tokens[label] = {"Authorization": f"Bearer {token.get_json()['token']}"}

    client, control_client = app.test_client(), control.test_client()
    assert client.get("/api/v1/me", headers=tokens["ping"]).status_code == 200
    assert control_client.get("/api/v1/me", headers=tokens["no ping"]).status_code == 200

    assert _terminate_connections(pg_url) >= 2  # one pooled connection of each app at least

    # a request that reads the database whatever the token cache holds (API_TOKEN_CACHE_SECONDS)
    answer = client.get("/api/v1/events", headers=tokens["ping"])
    assert answer.status_code == 200 and answer.get_json()["total"] == 0
    # the control: the same request on a pool without the ping gets the dead connection
    assert control_client.get("/api/v1/events", headers=tokens["no ping"]).status_code == 500
    for server in (app, control):
        with server.app_context():
            db.engine.dispose()
