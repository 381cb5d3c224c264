"""``flask users …`` for operators: set-password (prompt, --password, --generate), deactivate,
activate, revoke-tokens, unlock, list; all audited; the demo says how to get a password back."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.conftest import PASSWORD

NEW_PASSWORD = "operator-set-9"


def audit_actions(app, action):
    from app.extensions import db
    from app.models_common import AuditEntry

    with app.app_context():
        return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_set_password_with_option_ends_sessions_and_tokens_and_audits(app, client, auth, runner):
    name = auth.user("admin", "000000", username="admin")
    headers = auth.token(username=name)
    page = app.test_client()
    page.post("/login", data={"username": name, "password": PASSWORD})
    result = runner.invoke(args=["users", "set-password", name, "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert page.get("/account").status_code == 302
    assert client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD}).status_code == 401
    fresh = client.post("/api/v1/auth/token", json={"username": name, "password": NEW_PASSWORD}).get_json()
    assert fresh["must_change_password"] is False
    [entry] = audit_actions(app, "user.password_set")
    assert entry.username == "system" and entry.after == {"sessions_ended": 1, "tokens_revoked": 1}


def test_set_password_prompts_without_echo(app, client, auth, runner):
    name = auth.user("officer", "140105")
    result = runner.invoke(args=["users", "set-password", name], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output
    assert client.post("/api/v1/auth/token", json={"username": name, "password": NEW_PASSWORD}).status_code == 200


def test_set_password_refuses_a_weak_one_and_an_unknown_user(auth, runner):
    name = auth.user("officer", "140105")
    weak = runner.invoke(args=["users", "set-password", name, "--password", "letters"])
    assert weak.exit_code != 0 and "password" in weak.output
    unknown = runner.invoke(args=["users", "set-password", "nobody", "--password", NEW_PASSWORD])
    assert unknown.exit_code != 0 and "不存在" in unknown.output
    both = runner.invoke(args=["users", "set-password", name, "--password", NEW_PASSWORD, "--generate"])
    assert both.exit_code != 0


def test_generate_prints_a_one_time_password(app, client, auth, runner):
    name = auth.user("officer", "140105")
    result = runner.invoke(args=["users", "set-password", name, "--generate"])
    assert result.exit_code == 0, result.output
    temporary = re.search(r"^\s+(\S{4}-\S{4}-\S{4})$", result.output, re.M).group(1)
    user = app.test_client()
    assert user.post("/login", data={"username": name, "password": temporary}).headers["Location"] == "/account/password"
    assert app.test_client().post("/api/v1/auth/token", json={"username": name, "password": temporary}).status_code == 401
    assert audit_actions(app, "user.password_set")


def test_deactivate_activate_revoke_tokens_and_list(app, client, auth, runner):
    name = auth.user("officer", "140105", username="ma")
    headers = auth.token(username=name)
    result = runner.invoke(args=["users", "revoke-tokens", name])
    assert result.exit_code == 0 and "1 个令牌" in result.output
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    headers = auth.token(username=name)
    assert runner.invoke(args=["users", "deactivate", name]).exit_code == 0
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    listing = runner.invoke(args=["users", "list"])
    assert re.search(r"^ma\s+officer\s+140105\s+小店区\s+停用", listing.output, re.M), listing.output
    assert runner.invoke(args=["users", "activate", name]).exit_code == 0
    assert client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD}).status_code == 200
    assert {e.action for e in audit_actions(app, "user.deactivate") + audit_actions(app, "user.activate")} == \
        {"user.deactivate", "user.activate"}
    assert runner.invoke(args=["users", "deactivate", "nobody"]).exit_code != 0


def test_demo_says_how_to_get_a_password_back(app):
    from app.auth.demo import load_users
    from app.extensions import db

    lines: list[str] = []
    with app.app_context():
        load_users(lines.append)
        first = "\n".join(lines)
        lines.clear()
        load_users(lines.append)
        db.session.remove()
    assert "密码:" in first and "users set-password admin" in first
    assert "已存在" in lines[0] and "flask --app wsgi users set-password admin" in lines[0]
