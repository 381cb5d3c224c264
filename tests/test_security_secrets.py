"""Secret key (issue 12, item 1): outside testing the app refuses to start with an empty, short or
published key; ``make secret-key`` writes a random one once (mode 0600) and ``create_app`` reads
it; a session cookie signed with any key the project ever shipped does not sign anyone in."""
from __future__ import annotations

import os
import secrets
import stat
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from app import create_app
from app.security import KNOWN_SECRET_KEYS, MIN_SECRET_KEY_LENGTH
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[1]


def _production(tmp_path, **config):
    """``create_app`` as gunicorn runs it (TESTING off), with an instance folder of its own."""
    instance = tmp_path / "instance"
    return create_app({"TESTING": False, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite'}",
                       **config}, instance_path=str(instance))


def test_every_key_ever_published_is_listed():
    """The list holds the keys found in the history (``git log -p -S SECRET_KEY --all``), the
    README and the tests and benchmarks that start the app."""
    assert {"dev-only-change-me", "a long random string", "test", "t", "race-test", "bench"} <= KNOWN_SECRET_KEYS


@pytest.mark.parametrize("key", sorted(KNOWN_SECRET_KEYS))
def test_a_published_key_refuses_to_start(tmp_path, key):
    with pytest.raises(RuntimeError) as refused:
        _production(tmp_path, SECRET_KEY=key)
    message = str(refused.value)
    assert "SECRET_KEY" in message and "make secret-key" in message and "JIUZAI_SECRET_KEY" in message


def test_a_published_key_is_refused_even_when_padded_to_length(tmp_path):
    with pytest.raises(RuntimeError, match="published"):
        _production(tmp_path, SECRET_KEY="  dev-only-change-me  ")


@pytest.mark.parametrize("key", [None, "", "x" * (MIN_SECRET_KEY_LENGTH - 1)])
def test_a_missing_or_short_key_refuses_to_start(tmp_path, key):
    with pytest.raises(RuntimeError, match="SECRET_KEY is (not set|too short)"):
        _production(tmp_path, SECRET_KEY=key)


def test_a_published_fallback_key_refuses_to_start(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY_FALLBACKS"):
        _production(tmp_path, SECRET_KEY=secrets.token_hex(32), SECRET_KEY_FALLBACKS=["dev-only-change-me"])


def test_the_shipped_default_is_no_key():
    from app.config import Defaults

    assert Defaults.SECRET_KEY is None


def test_a_random_key_starts_and_tests_may_use_short_keys(tmp_path):
    key = secrets.token_hex(32)
    assert _production(tmp_path, SECRET_KEY=key).secret_key == key
    assert create_app({"TESTING": True, "SECRET_KEY": "test",
                       "SQLALCHEMY_DATABASE_URI": "sqlite://"}).secret_key == "test"


def test_the_instance_key_file_is_read(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    key = secrets.token_hex(32)
    (instance / "secret_key").write_text(key + "\n")
    os.chmod(instance / "secret_key", 0o600)
    assert _production(tmp_path).secret_key == key
    # a configured key wins over the file
    other = secrets.token_hex(32)
    assert _production(tmp_path, SECRET_KEY=other).secret_key == other


def test_the_environment_variable_is_read(tmp_path, monkeypatch):
    key = "1" * 39 + "e5"  # other JIUZAI_* values are parsed as JSON, which makes this a float
    monkeypatch.setenv("JIUZAI_SECRET_KEY", key)
    app = create_app({"TESTING": False, "SQLALCHEMY_DATABASE_URI": "sqlite://"},
                     instance_path=str(tmp_path / "instance"))
    assert app.secret_key == key


def test_make_secret_key_writes_a_private_key_once(tmp_path):
    target = tmp_path / "instance" / "secret_key"
    made = subprocess.run(["make", "-s", "secret-key", f"SECRET_KEY_FILE={target}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    key = target.read_text().strip()
    assert len(key) == 64 and int(key, 16) >= 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    again = subprocess.run(["make", "-s", "secret-key", f"SECRET_KEY_FILE={target}"], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and target.read_text().strip() == key  # reused, not replaced
    assert _production(tmp_path).secret_key == key


@pytest.mark.parametrize("target", ["run", "serve"])
def test_make_run_and_serve_make_the_key_before_starting(tmp_path, target):
    plan = subprocess.run(["make", "-n", target, f"SECRET_KEY_FILE={tmp_path / 'k'}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    made = next(i for i, line in enumerate(lines) if "token_hex" in line)
    started = next(i for i, line in enumerate(lines) if "gunicorn" in line)
    assert made < started
    if target == "run":
        assert made < next(i for i, line in enumerate(lines) if "db upgrade" in line)


# --- forged session cookies --------------------------------------------------------------------

def _serializer(key):
    """Flask's own session signer for ``key``."""
    forger = Flask("forger")
    forger.secret_key = key
    return SecureCookieSessionInterface().get_signing_serializer(forger)


def _status(app, cookie: str) -> tuple[int, int, str]:
    """(page status, /api/v1/me status, page Location) for a fresh client holding ``cookie``."""
    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    page = client.get("/")
    return page.status_code, client.get("/api/v1/me").status_code, page.headers.get("Location", "")


@pytest.fixture
def admin_session(app, client, auth):
    """A properly configured app (a random key) and the session payload of its national admin,
    as Flask-Login wrote it at sign-in, whatever its format."""
    from app.auth.models import User
    from app.extensions import db

    app.config["SECRET_KEY"] = secrets.token_hex(32)
    name = auth.user("admin", "000000")
    assert client.post("/login", data={"username": name, "password": PASSWORD}).status_code == 302
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    payload = _serializer(app.secret_key).loads(cookie)
    with app.app_context():
        user_id = db.session.scalar(select(User.id).filter_by(username=name))
    return payload, user_id


def test_the_forgery_works_with_the_real_key(app, admin_session):
    """The control: the same payload signed with the app's own key signs the admin in, so the
    refusals below come from the key and nothing else."""
    payload, _user_id = admin_session
    page, me, _location = _status(app, _serializer(app.secret_key).dumps(payload))
    assert (page, me) == (200, 200)


@pytest.mark.parametrize("key", sorted(KNOWN_SECRET_KEYS))
def test_a_cookie_forged_with_a_published_key_signs_nobody_in(app, admin_session, key):
    payload, user_id = admin_session
    forged = [
        _serializer(key).dumps(payload),  # the real payload of a signed-in admin, re-signed
        _serializer(key).dumps({"_user_id": str(user_id), "_fresh": True}),  # Flask-Login's format
        _serializer(key).dumps({"_user_id": str(user_id), "_fresh": True, "_id": payload.get("_id", ""),
                                "lang": "zh_CN"}),
    ]
    for cookie in forged:
        page, me, location = _status(app, cookie)
        assert page == 302 and "/login" in location
        assert me == 401
