"""The token cache (``API_TOKEN_CACHE_SECONDS``): a process trusts a token it has checked for a
short while, so a burst of requests with one token reads it once; whatever this process changes
(revocation, deactivation, password, role or region) counts at once, a change made by another
process within the bound."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, event, select, update

from app.auth.service import tokens
from app.extensions import db
from tests.conftest import PASSWORD


@pytest.fixture
def now_plus(monkeypatch):
    """Move the cache's clock by a number of seconds."""
    offset = {"s": 0.0}
    real = tokens._monotonic
    monkeypatch.setattr(tokens, "_monotonic", lambda: real() + offset["s"])

    def move(seconds: float) -> None:
        offset["s"] += seconds

    return move


def token_reads(app) -> list[str]:
    """The statements that read a token, counted from now on."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def count(_conn, _cursor, statement, *_args):
        if "JOIN api_token" in statement and "token_hash" in statement:
            seen.append(statement)

    return seen


def from_another_process(app, statement) -> None:
    """Run ``statement`` on a connection of its own, as another worker or the CLI would: no ORM
    event of this process sees it."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as connection:
        connection.execute(statement)
    engine.dispose()


def test_a_burst_with_one_token_reads_it_once(app, client, auth):
    headers = auth.token("officer", "140105", username="field")
    reads = token_reads(app)
    for _ in range(3):
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert len(reads) == 1


def test_no_cache_reads_it_every_time(app, client, auth):
    app.config["API_TOKEN_CACHE_SECONDS"] = 0
    headers = auth.token("officer", "140105", username="field")
    reads = token_reads(app)
    for _ in range(3):
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert len(reads) == 3


def _me(client, headers):
    return client.get("/api/v1/me", headers=headers)


def _token_id(client, headers) -> int:
    return client.get("/api/v1/me/tokens", headers=headers).get_json()["items"][0]["id"]


@pytest.mark.parametrize("change", ["own_revoke", "admin_revoke", "deactivate", "password_reset"])
def test_revoked_in_this_process_is_refused_at_once(app, client, auth, change):
    from app.auth.models import User

    headers = auth.token("officer", "140105", username="field")
    assert _me(client, headers).status_code == 200  # cached now
    admin = auth.token("admin", "140000", username="boss")
    with app.app_context():
        field_id = db.session.scalar(select(User.id).filter_by(username="field"))
    if change == "own_revoke":
        assert client.delete(f"/api/v1/me/tokens/{_token_id(client, headers)}", headers=headers).status_code == 204
    elif change == "admin_revoke":
        assert client.post(f"/api/v1/users/{field_id}/revoke-tokens", headers=admin).status_code == 200
    elif change == "deactivate":
        assert client.post(f"/api/v1/users/{field_id}/deactivate", headers=admin).status_code == 200
    else:
        assert client.post(f"/api/v1/users/{field_id}/reset-password", headers=admin).status_code == 200
    assert _me(client, headers).status_code == 401


def test_own_password_change_ends_the_token_at_once(app, client, auth):
    headers = auth.token("officer", "140105", username="field")
    assert _me(client, headers).status_code == 200
    changed = client.post("/api/v1/me/password", headers=headers,
                          json={"old_password": PASSWORD, "new_password": "brand-new-pass-7"})
    assert changed.status_code == 200, changed.get_json()
    assert _me(client, headers).status_code == 401


def test_region_changed_in_this_process_counts_at_once(app, client, auth):
    from app.auth.models import User

    headers = auth.token("officer", "140105", username="field")
    assert _me(client, headers).get_json()["region_code"] == "140105"
    with app.app_context():
        db.session.scalar(select(User).filter_by(username="field")).region_code = "140000"
        db.session.commit()
    assert _me(client, headers).get_json()["region_code"] == "140000"


def test_a_change_rolled_back_keeps_nothing_stale(app, client, auth):
    from app.auth.models import ApiToken

    headers = auth.token("officer", "140105", username="field")
    assert _me(client, headers).status_code == 200
    with app.app_context():
        db.session.scalar(select(ApiToken)).revoked = True
        db.session.flush()
        db.session.rollback()
    assert _me(client, headers).status_code == 200


@pytest.mark.parametrize("change", ["revoked", "inactive"])
def test_revoked_by_another_process_is_refused_within_the_bound(app, client, auth, now_plus, change):
    from app.auth.models import ApiToken, User

    bound = app.config["API_TOKEN_CACHE_SECONDS"]
    assert 0 < bound <= 5  # the documented short bound
    headers = auth.token("officer", "140105", username="field")
    assert _me(client, headers).status_code == 200
    if change == "revoked":
        from_another_process(app, update(ApiToken.__table__).values(revoked_at=datetime.now(timezone.utc)))
    else:
        from_another_process(app, update(User.__table__).where(User.__table__.c.username == "field")
                             .values(active=False))
    now_plus(bound / 2)
    assert _me(client, headers).status_code == 200  # still trusted inside the bound
    now_plus(bound / 2)
    assert _me(client, headers).status_code == 401  # read again once it has passed


def test_expiry_counts_on_every_request(app, client, auth):
    """An expired token is refused at once, cached or not."""
    import time_machine
    from datetime import timedelta

    headers = auth.token("officer", "140105", username="field")
    assert _me(client, headers).status_code == 200
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(hours=app.config["API_TOKEN_HOURS"], seconds=1)):
        assert _me(client, headers).status_code == 401
