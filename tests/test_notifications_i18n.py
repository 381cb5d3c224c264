"""Notifications in the reader's language (issue 20): a notification is stored once, with its
message and values, and reads in Chinese or English by who reads it; adapters send the Chinese."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext

from app.extensions import db
from app.notifications import notify
from app.notifications.models import Notification

ROOT = Path(__file__).resolve().parents[1]


def test_a_notification_reads_in_the_readers_language(app, client, auth):
    name = auth.user("coordinator", "140000", "reader")
    auth.login("coordinator", "140000", name)
    with app.app_context():
        from app.auth import User

        user = db.session.query(User).filter_by(username=name).one()
        notify([user], "complaint.received", "收到投诉举报 %(ticket)s", "%(subject)s，%(due)s 前答复。",
               "/complaints/1", params={"ticket": "TS-0001", "subject": "救助资金", "due": "2026-12-14"})
        db.session.commit()
        row = db.session.query(Notification).one()
        assert row.title == "收到投诉举报 TS-0001"  # what the SMS and e-mail adapters send
        assert row.body == "救助资金，2026-12-14 前答复。"
    chinese = client.get("/notifications/?lang=zh_CN").get_data(as_text=True)
    assert "收到投诉举报 TS-0001" in chinese
    english = client.get("/notifications/?lang=en").get_data(as_text=True)
    assert "Complaint received: TS-0001" in english and "answer by 2026-12-14" in english
    assert "收到投诉举报" not in english
    headers = auth.token("coordinator", "140000", name)
    listed = client.get("/api/v1/notifications?lang=en", headers=headers).get_json()
    titles = [n["title"] for n in listed["items"]]
    assert "Complaint received: TS-0001" in titles


def test_an_older_notification_without_a_message_reads_as_stored(app, client, auth):
    auth.login("coordinator", "140000")
    with app.app_context():
        from app.auth import User

        user = db.session.query(User).filter_by(role="coordinator").one()
        notify([user], "legacy", "灾情告警 某县", "正文")
        db.session.commit()
    assert "灾情告警 某县" in client.get("/notifications/?lang=en").get_data(as_text=True)


def test_a_list_of_goods_reads_in_the_readers_language(app, client, auth):
    """The goods a dispatch order or a supply request lists are kept as data, each item written
    out by its name and unit in the reader's language: "帐篷 40顶，棉被 10床" in Chinese (and to the
    adapters), "Tent 40 tents, Quilt 10 pcs" in English; the depot's name stays as named."""
    from tests.test_depots_api import API, make_depot, new_dispatch

    keeper = auth.user("depot_manager", "140105", "keeper")
    make_depot(app, "XD-140105", managers=[keeper], stock={"tent": 100, "quilt": 100})
    coordinator = auth.token("coordinator", "140000")
    new_dispatch(client, coordinator, "XD-140105", "140105001",
                 [{"item": "tent", "quantity": 40}, {"item": "quilt", "quantity": 10}])
    with app.app_context():
        row = db.session.query(Notification).filter_by(kind="dispatch.requested").one()
        assert row.body == "XD-140105库 → 示例镇：帐篷 40顶，棉被 10床"  # what the adapters send
    auth.login("depot_manager", "140105", keeper)
    english = client.get("/notifications/?lang=en").get_data(as_text=True)
    assert "XD-140105库 → 示例镇: Tent 40 tents, Quilt 10 pcs" in english
    assert "帐篷" not in english and "棉被" not in english
    assert "帐篷 40顶，棉被 10床" in client.get("/notifications/?lang=zh_CN").get_data(as_text=True)
    # a supply request's lines, up the tiers
    county = auth.token("coordinator", "140105", username="county")
    auth.user("coordinator", "140100", "pref")
    raised = client.post(f"{API}/supply-requests", headers=county, json={
        "from_region_code": "140105", "reason": "缺", "lines": [{"item": "tent", "quantity": 50}]})
    assert raised.status_code == 201, raised.get_json()
    headers = auth.token("coordinator", "140100", "pref")
    bodies = [n["body"] for n in client.get("/api/v1/notifications?lang=en", headers=headers).get_json()["items"]]
    assert any(body.startswith("Tent 50 tents") for body in bodies), bodies


#: Functions that pass their message to ``notify`` with its values: (name, index of the title).
MESSAGE_CALLS = {"notify": 2, "_tell_requester": 2}


def _constants(node, tree) -> list[tuple[int, str]]:
    """The string constants an argument can be: a literal, either branch of ``a if c else b``, or
    the constants assigned to a variable of that name in the module."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [(node.lineno, node.value)] if node.value else []
    if isinstance(node, ast.IfExp):
        return _constants(node.body, tree) + _constants(node.orelse, tree)
    if isinstance(node, ast.Name):
        found = []
        for assign in ast.walk(tree):
            if isinstance(assign, ast.Assign) and any(getattr(t, "id", None) == node.id for t in assign.targets):
                found += _constants(assign.value, tree)
        return found
    return []


def _notify_messages() -> list[tuple[str, int, str]]:
    """Every message template passed with its values (``params``) in the app: (file, line, msgid)."""
    found = []
    for path in (ROOT / "app").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            name = getattr(node.func, "id", None) if isinstance(node, ast.Call) else None
            if name not in MESSAGE_CALLS:
                continue
            with_values = any(k.arg == "params" for k in node.keywords) or (
                name != "notify" and len(node.args) > MESSAGE_CALLS[name] + 2)
            if not with_values:
                continue
            start = MESSAGE_CALLS[name]
            for arg in node.args[start:start + 2]:
                found += [(path.name, line, text) for line, text in _constants(arg, tree)]
    return found


def test_every_notification_message_has_its_english(app):
    messages = _notify_messages()
    assert len(messages) >= 25  # reports, responses, complaints, depots (and cycles) at least
    with app.test_request_context("/?lang=en"), force_locale("en"):
        missing = [f"{name}:{line}: {msgid}" for name, line, msgid in messages
                   if gettext(msgid) == msgid and re.search(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", msgid)]
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("label", ["一级", "四级", "Ⅳ"])
def test_level_names_in_notifications_read_in_english(app, label):
    from app.responses.service.plans import level_name

    with app.test_request_context("/?lang=en"), force_locale("en"):
        assert gettext(level_name(label)).startswith("Level ")


def test_every_notify_call_keeps_its_message_and_values():
    """A message composed before ``notify`` (an f-string) could only ever read in Chinese."""
    bare = []
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "notify"
                    and not any(k.arg == "params" for k in node.keywords)):
                bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bare, bare
