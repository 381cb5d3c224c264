"""Server-side sign-in sessions and revocable tokens: logout, password change and a copied or
forged cookie end what they must at once; the user costs one query per page."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import event, func, select

from tests.conftest import PASSWORD

SH = ZoneInfo("Asia/Shanghai")
NEW_PASSWORD = "brand-new-pass-7"


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def login(client, username, password=PASSWORD, **kwargs):
    return client.post("/login", data={"username": username, "password": password}, **kwargs)


def token(client, username, password=PASSWORD, **body):
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password, **body})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def csrf(client) -> dict:
    """The header a page's script sends with an unsafe API call made with the session."""
    import re

    page = client.get("/help").get_data(as_text=True)
    return {"X-CSRFToken": re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)}


def copy_of(app, client):
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_logout_ends_the_session_a_copied_cookie_is_refused(app, client, auth):
    assert auth.login("officer", "140105").status_code == 302
    thief = copy_of(app, client)
    assert signed_in(thief)  # the copy works while the session lives
    auth.logout()
    assert not signed_in(client)
    assert not signed_in(thief)
    assert thief.get("/api/v1/me").status_code == 401


def test_cookie_forged_with_a_user_id_alone_is_refused(app, client, auth):
    name = auth.user("admin", "000000")
    from app.auth.models import User
    from app.extensions import db

    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == name))
        serializer = app.session_interface.get_signing_serializer(app)
        forged = [serializer.dumps({"_user_id": str(user_id), "_fresh": True}),
                  serializer.dumps({"_user_id": f"{user_id}.{'A' * 43}", "_fresh": True})]
    for value in forged:
        forger = app.test_client()
        forger.set_cookie("session", value)
        assert not signed_in(forger)
        assert forger.get("/api/v1/me").status_code == 401


def test_password_change_ends_other_sessions_and_every_token(app, client, auth):
    name = auth.user("officer", "140105", username="li")
    headers = token(client, name)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    other = app.test_client()
    login(other, name)
    login(client, name)
    response = client.post("/account/password", data={"old_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert signed_in(client)  # the session that changed it goes on
    assert not signed_in(other)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert app.test_client().post("/api/v1/auth/token", json={"username": name, "password": PASSWORD}).status_code == 401
    token(app.test_client(), name, NEW_PASSWORD)
    from app.extensions import db
    from app.models_common import AuditEntry

    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.password_change"))
        assert entry.username == "li" and entry.after == {"sessions_ended": 1, "tokens_revoked": 1}


def test_password_change_through_the_api_ends_its_own_token_too(app, client, auth):
    name = auth.user("officer", "140105")
    headers = token(client, name)
    response = client.post("/api/v1/me/password", headers=headers,
                           json={"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 200 and response.get_json()["tokens_revoked"] == 1
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_password_rules_name_the_field(client, auth):
    headers = auth.token("officer", "140105", username="wang")
    cases = [({"old_password": "wrong-pass-1", "new_password": NEW_PASSWORD}, "old_password"),
             ({"old_password": PASSWORD, "new_password": "short1"}, "new_password"),
             ({"old_password": PASSWORD, "new_password": "onlyletters"}, "new_password"),
             ({"old_password": PASSWORD, "new_password": "wang-12345"}, "new_password"),
             ({"old_password": PASSWORD, "new_password": PASSWORD}, "new_password"),
             ({"old_password": PASSWORD, "new_password": "bad\x00pass-123"}, "new_password")]
    for body, field in cases:
        response = client.post("/api/v1/me/password", headers=headers, json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert response.content_type == "application/problem+json"
        assert field in [e["field"] for e in response.get_json()["errors"]], body
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # nothing changed


def test_change_password_page_refuses_a_wrong_old_password(client, auth):
    auth.login("officer", "140105")
    page = client.post("/account/password", data={"old_password": "not-it-123", "new_password": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD}, follow_redirects=True)
    assert "当前密码不正确" in page.get_data(as_text=True)
    mismatch = client.post("/account/password", data={"old_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                      "confirm": NEW_PASSWORD + "x"})
    assert "两次输入的新密码不一致" in mismatch.get_data(as_text=True)


def test_my_sessions_list_and_sign_out_another(app, client, auth):
    name = auth.user("auditor", "140000")
    other = app.test_client()
    login(other, name, headers={"User-Agent": "field-tablet"})
    login(client, name)
    sessions = client.get("/api/v1/me/sessions").get_json()
    assert sessions["total"] == 2
    current = [s for s in sessions["items"] if s["current"]]
    assert len(current) == 1
    tablet = next(s for s in sessions["items"] if s["user_agent"] == "field-tablet")
    page = client.get("/account").get_data(as_text=True)
    assert "field-tablet" in page and "当前会话" in page
    assert client.delete(f"/api/v1/me/sessions/{tablet['id']}").status_code == 400  # no CSRF header
    assert signed_in(other)
    headers = csrf(client)
    assert client.delete(f"/api/v1/me/sessions/{tablet['id']}", headers=headers).status_code == 204
    assert not signed_in(other) and signed_in(client)
    assert client.delete(f"/api/v1/me/sessions/{tablet['id']}", headers=headers).status_code == 404
    assert client.delete("/api/v1/me/sessions/1099511627776", headers=headers).status_code == 404


def test_sign_out_other_sessions_from_the_page(app, client, auth):
    name = auth.user("officer", "140105")
    others = [app.test_client() for _ in range(2)]
    for other in others:
        login(other, name)
    login(client, name)
    page = client.post("/account/sessions/end-others", follow_redirects=True).get_data(as_text=True)
    assert "已退出其他 2 个会话" in page
    assert signed_in(client) and not any(signed_in(o) for o in others)


def test_nobody_ends_another_users_session(app, client, auth):
    victim = app.test_client()
    login(victim, auth.user("officer", "140105"))
    victim_session = victim.get("/api/v1/me/sessions").get_json()["items"][0]["id"]
    auth.login("officer", "140105")
    assert client.delete(f"/api/v1/me/sessions/{victim_session}", headers=csrf(client)).status_code == 404
    assert signed_in(victim)


def test_my_tokens_list_and_revoke(app, client, auth):
    name = auth.user("officer", "140105")
    tablet = token(client, name, label="野外平板")
    laptop = token(client, name)
    listed = client.get("/api/v1/me/tokens", headers=laptop).get_json()
    assert listed["total"] == 2 and {t["label"] for t in listed["items"]} == {"野外平板", None}
    tablet_id = next(t["id"] for t in listed["items"] if t["label"] == "野外平板")
    assert client.delete(f"/api/v1/me/tokens/{tablet_id}", headers=laptop).status_code == 204
    assert client.get("/api/v1/me", headers=tablet).status_code == 401
    assert client.get("/api/v1/me", headers=laptop).status_code == 200
    login(client, name)
    page = client.get("/account").get_data(as_text=True)
    assert "野外平板" not in page


def test_the_user_costs_one_query_per_page(app, client, auth):
    auth.login("officer", "140105")
    client.get("/help")  # last_seen_at was just written: no write for a minute
    from app.extensions import db

    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get("/help").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    queries = [s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
    # the page's own queries (the unread-notification badge) aside, the user is one query
    about_user = [q for q in queries if "user_session" in q or 'FROM "user"' in q or "FROM user" in q]
    assert len(about_user) == 1 and "user_session" in about_user[0]
    assert not [q for q in queries if q.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]


def test_idle_and_old_sessions_end(app, client, auth):
    start = datetime(2026, 7, 6, 9, 0, tzinfo=SH)
    with time_machine.travel(start, tick=False) as clock:
        auth.login("officer", "140105")
        clock.move_to(start + timedelta(minutes=100))
        assert signed_in(client)  # and last_seen_at moves on
        clock.move_to(start + timedelta(minutes=210))
        assert signed_in(client)  # 110 minutes idle: still inside the 120
        clock.move_to(start + timedelta(hours=12, minutes=1))
        assert not signed_in(client)  # older than SESSION_MAX_HOURS, however busy
    with time_machine.travel(start, tick=False) as clock:
        auth.login("officer", "140105")
        clock.move_to(start + timedelta(minutes=121))
        assert not signed_in(client)


def test_expired_tokens_and_sessions_are_not_listed(app, client, auth):
    name = auth.user("officer", "140105")
    start = datetime(2026, 7, 6, 9, 0, tzinfo=SH)
    with time_machine.travel(start, tick=False) as clock:
        token(client, name)
        login(app.test_client(), name)
        clock.move_to(start + timedelta(hours=25))
        headers = token(client, name)
        body = client.get("/api/v1/me/tokens", headers=headers).get_json()
        assert body["total"] == 1
        assert client.get("/api/v1/me/sessions", headers=headers).get_json()["total"] == 0


def test_ended_sessions_and_tokens_are_forgotten_after_thirty_days(app, client, auth):
    from app.auth.models import ApiToken, UserSession
    from app.extensions import db

    name = auth.user("officer", "140105")
    start = datetime(2026, 7, 6, 9, 0, tzinfo=SH)
    with time_machine.travel(start, tick=False) as clock:
        login(client, name)
        client.post("/logout")
        token(client, name)
        clock.move_to(start + timedelta(days=29))
        login(client, name)
        token(client, name)
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(UserSession)) == 2
            assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 2
        clock.move_to(start + timedelta(days=31, hours=1))
        login(app.test_client(), name)
        token(client, name)
        with app.app_context():
            # the first session and token ended over 30 days ago; the second ones are kept
            assert db.session.scalar(select(func.count()).select_from(UserSession)) == 2
            assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 2
            db.session.remove()
