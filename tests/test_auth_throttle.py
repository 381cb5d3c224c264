"""Login throttling in the database: per account and per address, failures only, shared by
every worker and instance, with the time to try again on the page and in the API."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from app import create_app
from tests.conftest import PASSWORD

SH = ZoneInfo("Asia/Shanghai")
NINE = datetime(2026, 7, 6, 9, 0, tzinfo=SH)
NAT = {"REMOTE_ADDR": "10.14.1.1"}


def page_login(client, username, password, address=NAT):
    return client.post("/login", data={"username": username, "password": password}, environ_base=address)


def api_login(client, username, password, address=NAT):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base=address)


@pytest.fixture
def clock():
    with time_machine.travel(NINE, tick=False) as traveller:
        yield traveller


def test_five_bad_passwords_lock_the_account_until_a_named_time(app, client, auth, clock):
    name = auth.user("officer", "140105")
    for _ in range(4):
        response = page_login(client, name, "wrong-pass-1")
        assert response.status_code == 200 and "用户名或密码错误" in response.get_data(as_text=True)
    fifth = page_login(client, name, "wrong-pass-1")
    assert fifth.status_code == 429
    assert "2026-07-06 09:15" in fifth.get_data(as_text=True)
    # the right password is refused too, unchecked, until the time has come
    clock.move_to(NINE + timedelta(minutes=14, seconds=59))
    locked = page_login(client, name, PASSWORD)
    assert locked.status_code == 429 and "09:15" in locked.get_data(as_text=True)
    assert int(locked.headers["Retry-After"]) == 1
    api = api_login(client, name, PASSWORD)
    assert api.status_code == 429 and api.headers["Retry-After"] == "1"
    assert api.content_type == "application/problem+json" and "09:15" in api.get_json()["detail"]
    assert api.get_json()["retry_at"].startswith("2026-07-06T01:15")
    clock.move_to(NINE + timedelta(minutes=15))
    assert page_login(client, name, PASSWORD).status_code == 302


def test_the_lock_reads_in_english_too(app, client, auth, clock):
    name = auth.user("officer", "140105")
    client.get("/login?lang=en")
    for _ in range(5):
        response = page_login(client, name, "wrong-pass-1")
    assert response.status_code == 429
    assert "Try again after 2026-07-06 09:15 (Beijing time)" in response.get_data(as_text=True)


def test_api_and_pages_count_together_and_unknown_names_lock_alike(app, client, auth, clock):
    name = auth.user("officer", "140105")
    for _ in range(3):
        assert api_login(client, name, "wrong-pass-1").status_code == 401
    assert page_login(client, name, "wrong-pass-1").status_code == 200
    assert api_login(client, name, "wrong-pass-1").status_code == 429
    for _ in range(4):
        assert api_login(client, "nobody-here", "x").status_code == 401
    assert api_login(client, "nobody-here", "x").status_code == 429  # no telling names apart


def test_success_does_not_count_and_forgives_the_account(app, client, auth, clock):
    name = auth.user("officer", "140105")
    for _ in range(4):
        page_login(client, name, "wrong-pass-1")
    assert page_login(client, name, PASSWORD).status_code == 302
    for _ in range(4):
        assert page_login(app.test_client(), name, "wrong-pass-1").status_code == 200
    assert page_login(app.test_client(), name, PASSWORD).status_code == 302
    for _ in range(60):  # successes never count, per account or per address
        assert api_login(client, name, PASSWORD).status_code == 200
    from app.auth.models import LoginFailure
    from app.extensions import db

    with app.app_context():
        # the failures still count against the address they came from, not against the account
        rows = db.session.execute(select(LoginFailure.account_cleared, func.count())
                                  .group_by(LoginFailure.account_cleared)).all()
        assert dict(rows) == {True: 8}


def test_a_county_office_behind_one_address_all_get_in_at_nine(app, client, auth, clock):
    clerks = [auth.user("officer", "140105") for _ in range(40)]
    for clerk in clerks:  # every one of them mistypes once, then gets it right
        assert page_login(app.test_client(), clerk, "typo-pass-1").status_code == 200
    for clerk in clerks:
        assert page_login(app.test_client(), clerk, PASSWORD).status_code == 302
        assert api_login(client, clerk, PASSWORD).status_code == 200


def test_one_address_spraying_many_names_is_stopped(app, client, auth, clock):
    victim = auth.user("officer", "140105")
    for i in range(50):
        assert api_login(client, f"guess{i}", "Password1").status_code in (401, 429)
    blocked = api_login(client, victim, PASSWORD)
    assert blocked.status_code == 429 and "网络地址" in blocked.get_json()["detail"]
    # the same person from another address is not affected
    assert api_login(client, victim, PASSWORD, {"REMOTE_ADDR": "10.99.0.7"}).status_code == 200


def test_a_second_instance_on_the_same_database_sees_the_same_counts(app, client, auth, clock):
    name = auth.user("officer", "140105")
    second = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    other = second.test_client()
    for _ in range(3):
        assert page_login(client, name, "wrong-pass-1").status_code == 200
    assert page_login(other, name, "wrong-pass-1").status_code == 200
    assert page_login(other, name, "wrong-pass-1").status_code == 429
    assert page_login(client, name, PASSWORD).status_code == 429
    with second.app_context():
        from app.extensions import db

        db.engine.dispose()


def test_concurrent_attempts_never_buy_an_extra_guess(app, clock):
    """Two workers on the fifth attempt: the one whose attempt was written later is refused
    without its password being checked, whatever the order of their checks."""
    from app.auth import throttle
    from app.extensions import db

    now = datetime.now(SH)
    with app.app_context():
        for _ in range(4):
            throttle.record_attempt("li", "10.0.0.1", now)
        first = throttle.record_attempt("li", "10.0.0.2", now)
        second = throttle.record_attempt("li", "10.0.0.3", now)
        assert throttle.check("li", "10.0.0.3", now, before_id=second) is not None
        assert throttle.check("li", "10.0.0.2", now, before_id=first) is None
        db.session.remove()


def test_old_failures_are_pruned_on_insert(app, client, clock):
    from app.auth.models import LoginFailure
    from app.extensions import db

    for _ in range(3):
        api_login(client, "someone", "x")
    clock.move_to(NINE + timedelta(minutes=31))
    api_login(client, "other", "x")
    with app.app_context():
        assert db.session.scalars(select(LoginFailure.username)).all() == ["other"]


def test_configurable_budgets(app, client, auth, clock):
    app.config.update(LOGIN_ACCOUNT_MAX_FAILURES=2, LOGIN_ACCOUNT_LOCKOUT_MINUTES=60)
    name = auth.user("officer", "140105")
    assert api_login(client, name, "wrong-pass-1").status_code == 401
    locked = api_login(client, name, "wrong-pass-1")
    assert locked.status_code == 429 and "10:00" in locked.get_json()["detail"]
    app.config["LOGIN_THROTTLE_ENABLED"] = False
    assert api_login(client, name, PASSWORD).status_code == 200


def test_admin_reset_and_cli_unlock_lift_the_lock(app, client, auth, runner, clock):
    name = auth.user("officer", "140105", username="locked-out")
    for _ in range(5):
        api_login(client, name, "wrong-pass-1")
    assert api_login(client, name, PASSWORD).status_code == 429
    result = runner.invoke(args=["users", "unlock", name])
    assert result.exit_code == 0, result.output
    assert api_login(client, name, PASSWORD).status_code == 200
    for _ in range(5):
        api_login(client, name, "wrong-pass-1")
    from app.auth.models import User
    from app.extensions import db

    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == name))
    temporary = client.post(f"/api/v1/users/{user_id}/reset-password",
                            headers=auth.token("admin", "000000", username="boss")).get_json()["temporary_password"]
    assert api_login(client, name, temporary).status_code == 200


def test_wrong_old_password_counts_as_a_failed_sign_in(client, auth, clock):
    headers = auth.token("officer", "140105")
    for _ in range(4):
        response = client.post("/api/v1/me/password", headers=headers,
                               json={"old_password": "guess-1234", "new_password": "brand-new-pass-7"},
                               environ_base=NAT)
        assert response.status_code == 422
    fifth = client.post("/api/v1/me/password", headers=headers,
                        json={"old_password": "guess-1234", "new_password": "brand-new-pass-7"}, environ_base=NAT)
    assert fifth.status_code == 429 and fifth.headers["Retry-After"]


ODD_NAMES = [("a\\u0000", "a\x00"), ("\\ud800", None), ("x" * 500, "x" * 500),
             ("名\\u200b字", "名\u200b字"), ("\\t", "\t")]


@pytest.mark.parametrize("escaped, name", ODD_NAMES)
def test_odd_names_are_a_refusal_never_a_500(app, client, escaped, name):
    """Sent as JSON escapes, as a client would (a lone surrogate cannot be sent otherwise),
    and through the login form."""
    body = '{"username": "%s", "password": "p\\u0000w\\udfff"}' % escaped
    api = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert api.status_code in (401, 422), api.get_json()
    if name is not None:
        page = client.post("/login", data={"username": name, "password": "p\x00w"})
        # the input guard refuses the control character in the password before the login
        # form sees it: a page that names the field, not a server error, and nobody signed in
        assert page.status_code == 422
        assert "password" in page.get_data(as_text=True)
        assert client.get("/").status_code == 302
