"""User management (用户管理): the role × action × jurisdiction matrix, reset with a one-time
password and a forced change, deactivation, token revocation, the lists and their pages."""
from __future__ import annotations

from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from tests.conftest import PASSWORD

SH = ZoneInfo("Asia/Shanghai")
NEW_PASSWORD = "brand-new-pass-7"

#: Who acts: role and jurisdiction.
ACTORS = {
    "national_admin": ("admin", "000000"),
    "province_admin": ("admin", "140000"),
    "prefecture_admin": ("admin", "140100"),  # 太原市
    "county_admin": ("admin", "140105"),  # 小店区
    "coordinator": ("coordinator", "140000"),
    "auditor": ("auditor", "140000"),
    "officer": ("officer", "140105"),
}
#: On whom: an officer of a township in 小店区, or of 新荣区 (大同市).
TARGETS = {"inside": "140105001", "outside": "140212"}
READS = {"view": ("GET", "/users/{id}"), "sessions": ("GET", "/users/{id}/sessions"),
         "tokens": ("GET", "/users/{id}/tokens")}
WRITES = {"reset": ("POST", "/users/{id}/reset-password"), "deactivate": ("POST", "/users/{id}/deactivate"),
          "activate": ("POST", "/users/{id}/activate"), "revoke_tokens": ("POST", "/users/{id}/revoke-tokens"),
          "end_sessions": ("POST", "/users/{id}/end-sessions")}
#: Whose jurisdiction holds the target.
COVERS = {"national_admin": {"inside", "outside"}, "province_admin": {"inside", "outside"},
          "prefecture_admin": {"inside"}, "county_admin": {"inside"}, "coordinator": set(),
          "auditor": {"inside", "outside"}, "officer": set()}


def expected(actor: str, where: str, action: str) -> int:
    role = ACTORS[actor][0]
    if action in READS:
        allowed = role in ("admin", "auditor") and where in COVERS[actor]
    else:
        allowed = role == "admin" and where in COVERS[actor]
    return 200 if allowed else 403


def user_id(app, username: str) -> int:
    from app.auth.models import User
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


@pytest.mark.parametrize("action", [*READS, *WRITES])
@pytest.mark.parametrize("where", list(TARGETS))
@pytest.mark.parametrize("actor", list(ACTORS))
def test_matrix(app, client, auth, actor, where, action):
    target = user_id(app, auth.user("officer", TARGETS[where]))
    headers = auth.token(*ACTORS[actor])
    method, path = {**READS, **WRITES}[action]
    response = client.open(f"/api/v1{path.format(id=target)}", method=method, headers=headers)
    assert response.status_code == expected(actor, where, action), response.get_json()
    if response.status_code == 403:
        assert response.content_type == "application/problem+json"
        from app.auth.models import User
        from app.extensions import db

        with app.app_context():  # refused means untouched
            user = db.session.get(User, target)
            assert user.active and not user.must_change_password


@pytest.mark.parametrize("where", list(TARGETS))
@pytest.mark.parametrize("actor", list(ACTORS))
def test_create_matrix(app, client, auth, actor, where):
    headers = auth.token(*ACTORS[actor])
    body = {"username": f"new-{actor}-{where}", "role": "officer", "region_code": TARGETS[where],
            "password": PASSWORD}
    response = client.post("/api/v1/users", headers=headers, json=body)
    assert response.status_code == (201 if expected(actor, where, "reset") == 200 else 403), response.get_json()
    if response.status_code == 201:
        made = response.get_json()
        assert made["must_change_password"] is True and made["region_name"]


def test_page_matrix_for_the_same_rules(app, client, auth):
    inside = user_id(app, auth.user("officer", TARGETS["inside"]))
    outside = user_id(app, auth.user("officer", TARGETS["outside"]))
    auth.login("admin", "140105")
    assert client.get(f"/users/{inside}").status_code == 200
    assert client.get(f"/users/{outside}").status_code == 403
    assert client.post(f"/users/{outside}/deactivate").status_code == 403
    assert client.post(f"/users/{inside}/deactivate").status_code == 302
    auth.login("coordinator", "140000")
    assert client.get("/users").status_code == 403
    assert client.get(f"/users/{inside}").status_code == 403
    assert client.post("/users", data={"username": "x", "role": "officer", "region_code": "140105",
                                       "password": PASSWORD}).status_code == 403


def test_unknown_user_is_404(client, auth):
    headers = auth.token("admin", "000000")
    for path in ("/users/4242", "/users/1099511627776", "/users/4242/sessions"):
        assert client.get(f"/api/v1{path}", headers=headers).status_code == 404
    assert client.post("/api/v1/users/4242/deactivate", headers=headers).status_code == 404


def test_peer_admins_are_managed_from_above(app, client, auth):
    peer = user_id(app, auth.user("admin", "140105"))
    below = user_id(app, auth.user("admin", "140105001"))
    headers = auth.token("admin", "140105")
    assert client.post(f"/api/v1/users/{peer}/reset-password", headers=headers).status_code == 403
    assert client.post(f"/api/v1/users/{below}/reset-password", headers=headers).status_code == 200
    assert client.get(f"/api/v1/users/{peer}", headers=headers).status_code == 200  # seeing is fine
    made = client.post("/api/v1/users", headers=headers, json={"username": "peer2", "role": "admin",
                                                              "region_code": "140105", "password": PASSWORD})
    assert made.status_code == 403
    above = auth.token("admin", "140100")
    assert client.post(f"/api/v1/users/{peer}/reset-password", headers=above).status_code == 200


def test_an_admin_neither_deactivates_nor_resets_themselves(app, client, auth):
    name = auth.user("admin", "000000")
    me = user_id(app, name)
    headers = auth.token(username=name)
    for action in ("deactivate", "reset-password"):
        response = client.post(f"/api/v1/users/{me}/{action}", headers=headers)
        assert response.status_code == 409, action
    assert client.get("/api/v1/me", headers=headers).get_json()["active"] is True


def test_county_admin_lists_only_their_users_with_region_names(app, client, auth):
    for region in ("140105", "140105001", "140106", "140212", "650100"):
        auth.user("officer", region)
    headers = auth.token("admin", "140105", username="county-admin")
    body = client.get("/api/v1/users", headers=headers).get_json()
    assert {u["region_code"] for u in body["items"]} == {"140105", "140105001"}
    assert body["total"] == 3  # two officers and the county admin
    assert {u["region_name"] for u in body["items"]} == {"小店区", "示例镇"}
    national = client.get("/api/v1/users?limit=100", headers=auth.token("admin", "000000")).get_json()
    assert national["total"] == 7
    assert "全国" in {u["region_name"] for u in national["items"]}
    auth.login(username="county-admin")
    page = client.get("/users").get_data(as_text=True)
    assert "小店区" in page and "示例镇" in page and "新荣区" not in page and "650100" not in page


def test_list_filters(client, auth):
    auth.user("officer", "140105", username="zhang-san")
    auth.user("officer", "140212", username="li-si")
    headers = auth.token("admin", "000000")
    assert [u["username"] for u in client.get("/api/v1/users?q=zhang", headers=headers).get_json()["items"]] == ["zhang-san"]
    by_name = client.get("/api/v1/users?region_code=新荣区", headers=headers).get_json()
    assert [u["username"] for u in by_name["items"]] == ["li-si"]
    assert client.get("/api/v1/users?role=officer", headers=headers).get_json()["total"] == 2
    for query, field in (("active=maybe", "active"), ("role=king", "role"), ("region_code=火星", "region_code"),
                         ("q=a%00b", "q")):
        response = client.get(f"/api/v1/users?{query}", headers=headers)
        assert response.status_code == 422, query
        assert response.get_json()["errors"][0]["field"] == field


def test_create_by_region_name_and_refusals(app, client, auth):
    headers = auth.token("admin", "140100")
    made = client.post("/api/v1/users", headers=headers, json={
        "username": "wu", "role": "officer", "region_code": "小店区", "password": PASSWORD, "full_name": "吴"})
    assert made.status_code == 201 and made.get_json()["region_code"] == "140105"
    assert made.get_json()["region_name"] == "小店区"
    outside_by_name = client.post("/api/v1/users", headers=headers, json={
        "username": "zhou", "role": "officer", "region_code": "新荣区", "password": PASSWORD})
    assert outside_by_name.status_code == 422  # not found inside the jurisdiction
    again = client.post("/api/v1/users", headers=headers, json={
        "username": "wu", "role": "officer", "region_code": "140105", "password": PASSWORD})
    assert again.status_code == 409
    bad = client.post("/api/v1/users", headers=headers, json={
        "username": "bad name", "role": "king", "region_code": "99999", "password": "short"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"username", "role", "password", "region_code"}


def test_created_user_must_change_the_initial_password(app, client, auth):
    headers = auth.token("admin", "000000")
    client.post("/api/v1/users", headers=headers, json={
        "username": "qian", "role": "officer", "region_code": "140105", "password": PASSWORD})
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "qian", "password": PASSWORD}).headers["Location"] == "/account/password"


def test_reset_gives_a_one_time_password_and_forces_a_change(app, client, auth):
    officer = auth.user("officer", "140105", username="zhao")
    officer_id = user_id(app, officer)
    old_token = auth.token(username="zhao")
    victim_page = app.test_client()
    victim_page.post("/login", data={"username": "zhao", "password": PASSWORD})
    admin = auth.token("admin", "140105")
    reset = client.post(f"/api/v1/users/{officer_id}/reset-password", headers=admin)
    assert reset.status_code == 200 and reset.headers["Cache-Control"] == "no-store"
    body = reset.get_json()
    temporary = body["temporary_password"]
    assert body["sessions_ended"] == 1 and body["tokens_revoked"] == 1
    assert body["user"]["must_change_password"] is True
    # everything the user had is gone, and the old password too
    assert client.get("/api/v1/me", headers=old_token).status_code == 401
    assert victim_page.get("/account").status_code == 302
    assert client.post("/api/v1/auth/token", json={"username": "zhao", "password": PASSWORD}).status_code == 401
    # the temporary password signs in once, straight to the change page
    user = app.test_client()
    assert user.post("/login", data={"username": "zhao", "password": temporary}).headers["Location"] == "/account/password"
    assert user.get("/").headers["Location"] == "/account/password"
    blocked = user.get("/api/v1/events")
    assert blocked.status_code == 403 and "修改密码" in blocked.get_json()["detail"]
    assert user.get("/api/v1/me").get_json()["must_change_password"] is True
    second = app.test_client().post("/login", data={"username": "zhao", "password": temporary}, follow_redirects=True)
    assert "临时密码只能登录一次" in second.get_data(as_text=True)
    changed = user.post("/account/password", data={"old_password": temporary, "new_password": NEW_PASSWORD,
                                                   "confirm": NEW_PASSWORD})
    assert changed.headers["Location"] == "/account"
    assert user.get("/").status_code == 200
    assert client.post("/api/v1/auth/token", json={"username": "zhao", "password": temporary}).status_code == 401
    from app.extensions import db
    from app.models_common import AuditEntry

    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.password_reset"))
        assert entry.entity_id == str(officer_id) and entry.region_code == "140105"
        assert temporary not in str(entry.after)


def test_a_token_issued_with_a_temporary_password_only_changes_it(app, client, auth):
    officer_id = user_id(app, auth.user("officer", "140105", username="sun"))
    temporary = client.post(f"/api/v1/users/{officer_id}/reset-password",
                            headers=auth.token("admin", "000000")).get_json()["temporary_password"]
    issued = client.post("/api/v1/auth/token", json={"username": "sun", "password": temporary}).get_json()
    assert issued["must_change_password"] is True
    headers = {"Authorization": f"Bearer {issued['token']}"}
    refused = client.get("/api/v1/regions/140000", headers=headers)
    assert refused.status_code == 403 and refused.content_type == "application/problem+json"
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/me/password", headers=headers,
                       json={"old_password": temporary, "new_password": NEW_PASSWORD}).status_code == 200
    fresh = client.post("/api/v1/auth/token", json={"username": "sun", "password": NEW_PASSWORD}).get_json()
    assert fresh["must_change_password"] is False
    assert client.get("/api/v1/regions/140000", headers={"Authorization": f"Bearer {fresh['token']}"}).status_code == 200


def test_a_temporary_password_expires(app, client, auth):
    officer_id = user_id(app, auth.user("officer", "140105", username="he"))
    start = datetime(2026, 7, 6, 9, 0, tzinfo=SH)
    with time_machine.travel(start, tick=False) as clock:
        temporary = client.post(f"/api/v1/users/{officer_id}/reset-password",
                                headers=auth.token("admin", "000000")).get_json()["temporary_password"]
        clock.move_to(start + timedelta(hours=72, seconds=1))
        refused = client.post("/api/v1/auth/token", json={"username": "he", "password": temporary})
        assert refused.status_code == 401 and "已过期" in refused.get_json()["detail"]


def test_deactivate_ends_sessions_and_tokens_at_once(app, client, auth):
    officer = auth.user("officer", "140105", username="qin")
    officer_id = user_id(app, officer)
    their_token = auth.token(username="qin")
    their_page = app.test_client()
    their_page.post("/login", data={"username": "qin", "password": PASSWORD})
    admin = auth.token("admin", "140100")
    listed = client.get(f"/api/v1/users/{officer_id}/sessions", headers=admin).get_json()
    assert listed["total"] == 1
    assert client.get(f"/api/v1/users/{officer_id}/tokens", headers=admin).get_json()["total"] == 1
    done = client.post(f"/api/v1/users/{officer_id}/deactivate", headers=admin)
    assert done.status_code == 200 and done.get_json()["active"] is False
    assert client.get("/api/v1/me", headers=their_token).status_code == 401
    assert their_page.get("/account").status_code == 302
    again = client.post("/api/v1/auth/token", json={"username": "qin", "password": PASSWORD})
    assert again.status_code == 401 and "停用" in again.get_json()["detail"]
    assert client.get(f"/api/v1/users/{officer_id}/sessions", headers=admin).get_json()["total"] == 0
    assert client.post(f"/api/v1/users/{officer_id}/activate", headers=admin).get_json()["active"] is True
    assert their_page.get("/account").status_code == 302  # the old session stays ended
    assert client.post("/api/v1/auth/token", json={"username": "qin", "password": PASSWORD}).status_code == 200
    from app.extensions import db
    from app.models_common import AuditEntry

    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == str(officer_id))).all()
        assert {"user.deactivate", "user.activate"} <= set(actions)


def test_revoke_tokens_and_end_sessions(app, client, auth):
    officer_id = user_id(app, auth.user("officer", "140105", username="gao"))
    tokens = [auth.token(username="gao") for _ in range(2)]
    page = app.test_client()
    page.post("/login", data={"username": "gao", "password": PASSWORD})
    admin = auth.token("admin", "000000")
    assert client.post(f"/api/v1/users/{officer_id}/revoke-tokens", headers=admin).get_json() == {"tokens_revoked": 2}
    assert all(client.get("/api/v1/me", headers=t).status_code == 401 for t in tokens)
    assert page.get("/account").status_code == 200  # sessions are another matter
    assert client.post(f"/api/v1/users/{officer_id}/end-sessions", headers=admin).get_json() == {"sessions_ended": 1}
    assert page.get("/account").status_code == 302


def test_user_pages_reset_deactivate_and_show_the_password_once(app, client, auth):
    officer_id = user_id(app, auth.user("officer", "140105001", username="feng"))
    auth.login("admin", "140105")
    detail = client.get(f"/users/{officer_id}").get_data(as_text=True)
    assert "示例镇" in detail and "重置密码" in detail
    reset = client.post(f"/users/{officer_id}/reset-password")
    assert reset.status_code == 200 and reset.headers["Cache-Control"] == "no-store"
    html = reset.get_data(as_text=True)
    import re

    temporary = re.search(r'id="temporary-password">([^<]+)<', html).group(1)
    assert temporary not in client.get(f"/users/{officer_id}").get_data(as_text=True)
    assert app.test_client().post("/login", data={"username": "feng", "password": temporary}).status_code == 302
    deactivated = client.post(f"/users/{officer_id}/deactivate", follow_redirects=True).get_data(as_text=True)
    assert "已停用用户 feng" in deactivated
    created = client.post("/users", data={"username": "tang", "full_name": "唐", "role": "officer",
                                          "region_code": "示例镇", "password": PASSWORD}, follow_redirects=True)
    assert "已创建用户 tang" in created.get_data(as_text=True)
    refused = client.post("/users", data={"username": "tang2", "role": "officer", "region_code": "新荣区",
                                          "password": PASSWORD}, follow_redirects=True)
    assert "新荣区" in refused.get_data(as_text=True) and refused.status_code == 200


def test_pages_in_english(client, auth):
    auth.login("admin", "000000")
    account = client.get("/account?lang=en").get_data(as_text=True)
    assert "My account" in account and "Change password" in account and "我的账户" not in account
    users = client.get("/users").get_data(as_text=True)
    assert "User management" in users and "New user" in users


# --- one validation path: the page refuses what the API refuses, naming the same fields -----------

BAD_USER = {"username": "bad name", "role": "king", "region_code": "99999", "password": "short"}


def test_the_page_refuses_a_new_user_as_the_api_does(app, client, auth):
    api = client.post("/api/v1/users", headers=auth.token("admin", "000000"), json=BAD_USER)
    assert api.status_code == 422
    refused = {e["field"]: e["message"] for e in api.get_json()["errors"]}
    auth.login("admin", "000000")
    page = client.post("/users", data=BAD_USER)
    assert page.status_code == 200
    html = unescape(page.get_data(as_text=True))
    # each field named by its label on the page, with the API's message for it
    for label, field in (("用户名", "username"), ("角色", "role"), ("管辖区划（代码或名称）", "region_code"),
                         ("初始密码", "password")):
        assert f"{label}：{refused[field]}" in html, field
    with app.app_context():
        from app.auth.models import User
        from app.extensions import db

        assert db.session.scalar(select(User.id).where(User.username.in_(["bad name", "badname"]))) is None


def test_a_blank_sign_in_is_refused_naming_the_fields(client):
    page = client.post("/login", data={"username": " ", "password": ""})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "用户名：必填" in html and "密码：必填" in html
    api = client.post("/api/v1/auth/token", json={"username": " ", "password": ""})
    assert api.status_code == 422
    assert {e["field"] for e in api.get_json()["errors"]} == {"username", "password"}


def test_a_password_is_never_stripped(app, client, auth):
    """Spaces around a password are part of it, on the pages and in the API alike."""
    spaced = "  spaced-pass-9  "
    created = client.post("/api/v1/users", headers=auth.token("admin", "000000"), json={
        "username": "kong", "role": "officer", "region_code": "140105", "password": spaced})
    assert created.status_code == 201
    assert client.post("/api/v1/auth/token", json={"username": "kong", "password": spaced.strip()}).status_code == 401
    issued = client.post("/api/v1/auth/token", json={"username": "kong", "password": spaced})
    assert issued.status_code == 200
    page = app.test_client()
    assert page.post("/login", data={"username": "kong", "password": spaced.strip()}).status_code == 200
    assert page.post("/login", data={"username": "kong", "password": spaced}).headers["Location"] == "/account/password"
    changed = page.post("/account/password", data={"old_password": spaced, "new_password": " " + NEW_PASSWORD,
                                                   "confirm": " " + NEW_PASSWORD})
    assert changed.headers["Location"] == "/account"
    assert client.post("/api/v1/auth/token", json={"username": "kong", "password": NEW_PASSWORD}).status_code == 401
    assert client.post("/api/v1/auth/token", json={"username": "kong", "password": " " + NEW_PASSWORD}).status_code == 200
