"""Complaints and tips from the public (投诉举报): filed without signing in (optionally anonymous,
throttled), a ticket to follow, routed to the county, deadlines in working days, escalation when
overdue, the answer shown by ticket, the complainant hidden from those complained about, and a
household's payments held while a complaint about it is open."""
from __future__ import annotations

from datetime import date

import pytest
import time_machine
from sqlalchemy import select

from app.complaints.models import PublicComplaint
from app.extensions import db
from tests.test_cycles_flow import _approved
from tests.test_cycles_support import at, make_event, make_household, paid_total, post, run_due


def seed_household(app) -> int:
    return make_household(app, head_name="示例户主", contact="13700001111")


def file_complaint(client, **extra) -> str:
    body = {"kind": "complaint", "subject": "eligibility", "programme": "transitional",
            "region_code": "140105", "household_named": "示例一村 张某", "content": "不符合条件却领了救助金。",
            **extra}
    response = client.post("/public/complaints/new", data=body)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response.headers["Location"].split("ticket=")[1].split("&")[0]


def the_complaint(app) -> PublicComplaint:
    with app.app_context():
        return db.session.query(PublicComplaint).one()


def test_filing_needs_no_login_and_gives_a_ticket(app, client):
    assert client.get("/public/complaints/new").status_code == 200
    ticket = file_complaint(client, name="张三", contact="13900000000")
    row = the_complaint(app)
    assert row.ticket == ticket and row.status == "open" and row.region_code == "140105"
    assert row.name == "张三" and row.contact == "13900000000" and not row.anonymous
    html = client.get(f"/public/complaints/track?ticket={ticket}").get_data(as_text=True)
    assert "办理中" in html and "张三" not in html and "13900000000" not in html


def test_anonymous_keeps_no_identity(app, client):
    file_complaint(client, anonymous="true", name="张三", contact="13900000000")
    row = the_complaint(app)
    assert row.anonymous and row.name == "" and row.contact == ""


def test_bad_input_names_each_field_and_files_nothing(app, client):
    response = client.post("/public/complaints/new", data={"kind": "rumour", "subject": "eligibility",
                                                            "region_code": "140105001200", "content": ""})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "kind" in html and "region_code" in html and "content" in html
    with app.app_context():
        assert db.session.query(PublicComplaint).count() == 0
    assert client.get("/public/complaints/track?ticket=NOPE-1").status_code == 200
    assert "没有这个受理编号" in client.get("/public/complaints/track?ticket=NOPE-1").get_data(as_text=True)


def test_filing_is_throttled_per_address(app):
    from app import create_app

    throttled = create_app({**app.config, "RATELIMIT_ENABLED": True, "COMPLAINT_RATE_LIMIT": "2 per hour"})
    client = throttled.test_client()
    statuses = [client.post("/public/complaints/new", data={
        "kind": "tip", "subject": "misuse", "region_code": "140105", "content": f"第{i}次"}).status_code
        for i in range(3)]
    assert statuses == [302, 302, 429]
    assert client.get("/public/complaints/new").status_code == 200  # reading the form is not limited


def test_deadline_is_fifteen_working_days(app, client):
    with time_machine.travel(at("2026-07-01 10:00"), tick=False):  # a Wednesday
        file_complaint(client)
    assert the_complaint(app).due_on == date(2026, 7, 22)


def test_the_county_handles_and_the_public_sees_the_answer(app, client, auth):
    ticket = file_complaint(client, name="张三", contact="13900000000")
    row = the_complaint(app)
    auth.login("coordinator", "140105")
    listing = client.get("/complaints/").get_data(as_text=True)
    assert ticket in listing
    page = client.get(f"/complaints/{row.id}").get_data(as_text=True)
    assert "张三" in page  # a coordinator sees who complained
    refused = client.post(f"/complaints/{row.id}/answer", data={"answer": "请致电 13812345678"})
    assert refused.status_code == 302 and the_complaint(app).status == "open"
    client.post(f"/complaints/{row.id}/answer", data={"answer": "经核实，该户不符合条件，已追回。"})
    assert the_complaint(app).status == "answered"
    auth.logout()
    html = client.get(f"/public/complaints/track?ticket={ticket}").get_data(as_text=True)
    assert "已答复" in html and "经核实，该户不符合条件，已追回。" in html


@pytest.mark.parametrize("role, region, status", [
    ("coordinator", "140105", 200), ("admin", "140000", 200), ("auditor", "140105", 200),
    ("officer", "140105", 403), ("depot_manager", "140105", 403), ("coordinator", "140106", 403),
    ("dept_housing", "140105", 403)])
def test_who_sees_a_complaint(app, client, auth, role, region, status):
    file_complaint(client, name="张三", contact="13900000000")
    auth.login(role, region)
    response = client.get(f"/complaints/{the_complaint(app).id}")
    assert response.status_code == status
    if role == "auditor":  # reads the complaint, never who filed it
        assert "张三" not in response.get_data(as_text=True)


def test_overdue_complaints_are_escalated_once_per_level(app, client, auth, runner):
    from app.notifications import Notification

    auth.user("coordinator", "140100", username="prefecture")
    auth.user("coordinator", "140000", username="province")
    with time_machine.travel(at("2026-07-01 10:00"), tick=False):
        file_complaint(client)
    run_due(runner, at("2026-07-22 08:45"), "complaints.escalate")  # the deadline itself: not yet
    assert the_complaint(app).escalation_level == 0
    run_due(runner, at("2026-07-23 08:45"), "complaints.escalate")
    assert the_complaint(app).escalation_level == 1
    run_due(runner, at("2026-07-24 08:45"), "complaints.escalate")
    assert the_complaint(app).escalation_level == 1
    run_due(runner, at("2026-07-30 08:45"), "complaints.escalate")
    assert the_complaint(app).escalation_level == 2
    with app.app_context():
        overdue = db.session.query(Notification).filter_by(kind="complaint.overdue").all()
        assert len(overdue) == 2


def test_an_open_complaint_about_a_household_holds_its_payments(app, client, auth, runner):
    event = make_event(app, stabilised=at("2025-07-31 18:00"))
    cycle, headers, a, b, _line = _approved(app, client, auth, event)
    with time_machine.travel(at("2025-08-08 10:00"), tick=False):
        post(client, headers, f"/cycles/{cycle}/transitions", {"action": "disburse"}, 200)
        file_complaint(client)
        auth.login("coordinator", "140105", username="handler")
        complaint = the_complaint(app)
        client.post(f"/complaints/{complaint.id}/household", data={"household_id": a})
        auth.logout()
    assert the_complaint(app).cycle_complaint_ids
    run_due(runner, at("2025-08-09 07:00"), "cycles.rolls")
    assert paid_total(app, cycle) == 3 * 20 * 31  # only b (3 persons) is paid
    with time_machine.travel(at("2025-08-09 10:00"), tick=False):
        auth.login("coordinator", "140105", username="handler")
        client.post(f"/complaints/{complaint.id}/answer", data={"answer": "经核实，符合条件。"})
    run_due(runner, at("2025-08-10 07:00"), "cycles.rolls")
    assert paid_total(app, cycle) == 7 * 20 * 31
    # the cycle page (officers read it too) shows the ticket and the matter, not the complaint's words
    auth.login("officer", "140105", username="village-officer")
    page = client.get(f"/cycles/{cycle}").get_data(as_text=True)
    assert the_complaint(app).ticket in page and "救助对象认定" in page
    assert "不符合条件却领了救助金" not in page


def test_the_api_files_follows_and_answers(app, client, auth):
    bad = client.post("/api/v1/public/complaints", json={"kind": "x", "region_code": "650100"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} >= {"kind", "subject", "region_code", "content"}
    filed = client.post("/api/v1/public/complaints", json={
        "kind": "tip", "subject": "misuse", "region_code": "140105", "content": "物资被挪用。",
        "name": "李四", "contact": "13600000000"})
    assert filed.status_code == 201
    ticket = filed.get_json()["ticket"]
    followed = client.get(f"/api/v1/public/complaints/{ticket}").get_json()
    assert followed["status"] == "open" and "李四" not in str(followed)
    assert client.get("/api/v1/public/complaints/NOPE").status_code == 404
    coordinator = auth.token("coordinator", "140105")
    auditor = auth.token("auditor", "140105")
    rows = client.get("/api/v1/complaints", headers=coordinator).get_json()
    assert rows[0]["name"] == "李四"
    assert client.get("/api/v1/complaints", headers=auditor).get_json()[0]["name"] is None
    assert client.get("/api/v1/complaints", headers=auth.token("officer", "140105")).status_code == 403
    complaint_id = rows[0]["id"]
    answered = client.post(f"/api/v1/complaints/{complaint_id}/answer", headers=coordinator,
                           json={"answer": "已查实并追回。"})
    assert answered.status_code == 200
    assert client.get(f"/api/v1/public/complaints/{ticket}").get_json()["answer"] == "已查实并追回。"


def test_home_panel_counts_open_and_overdue(app, client, auth):
    with time_machine.travel(at("2026-07-01 10:00"), tick=False):
        file_complaint(client)
    with time_machine.travel(at("2026-07-30 10:00"), tick=False):
        file_complaint(client)
        auth.login("coordinator", "140105")
        html = client.get("/").get_data(as_text=True)
    assert 'id="complaints-panel"' in html and "办理中 2 件" in html and "逾期 1 件" in html
    auth.login("officer", "140105")
    assert 'id="complaints-panel"' not in client.get("/").get_data(as_text=True)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_photos_are_kept_for_the_staff_only(app, client, auth):
    from io import BytesIO

    response = client.post("/public/complaints/new", data={
        "kind": "tip", "subject": "misuse", "region_code": "140105", "content": "仓库里的帐篷被拉走了。",
        "photos": [(BytesIO(PNG), "a.png"), (BytesIO(b"\xff\xd8\xff\xe0" + b"\x00" * 32), "b.jpg")]},
        content_type="multipart/form-data")
    assert response.status_code == 302
    ticket = response.headers["Location"].split("ticket=")[1].split("&")[0]
    complaint_id = the_complaint(app).id
    assert "/photos/" not in client.get(f"/public/complaints/track?ticket={ticket}").get_data(as_text=True)
    assert client.get(f"/complaints/{complaint_id}/photos/1").status_code in (302, 401)
    auth.login("coordinator", "140105")
    page = client.get(f"/complaints/{complaint_id}").get_data(as_text=True)
    assert page.count("/photos/") == 4  # two photos, each a link around its thumbnail
    photo = client.get(f"/complaints/{complaint_id}/photos/1")
    assert photo.status_code == 200 and photo.mimetype == "image/png" and photo.data == PNG
    auth.login("officer", "140105")
    assert client.get(f"/complaints/{complaint_id}/photos/1").status_code == 403


def test_photos_are_in_the_file_store_and_older_ones_still_read(app, client, auth):
    from io import BytesIO

    from app.complaints.models import ComplaintPhoto
    from app.storage import StoredFile

    client.post("/public/complaints/new", data={
        "kind": "tip", "subject": "misuse", "region_code": "140105", "content": "帐篷被拉走了。",
        "photos": [(BytesIO(PNG), "a.png")]}, content_type="multipart/form-data")
    complaint_id = the_complaint(app).id
    with app.app_context():
        stored = db.session.scalars(select(StoredFile)).one()
        photo = db.session.scalars(select(ComplaintPhoto)).one()
        assert stored.key == photo.stored_key and stored.key.startswith(f"complaints/{complaint_id}/")
        assert (stored.content, stored.content_type, photo.content) == (PNG, "image/png", None)
        # a photo filed before the file store: its bytes in its own row
        db.session.add(ComplaintPhoto(complaint_id=complaint_id, content_type="image/png", size=len(PNG) + 1,
                                      content=PNG + b"\x01"))
        db.session.commit()
    auth.login("coordinator", "140105")
    assert client.get(f"/complaints/{complaint_id}/photos/1").data == PNG
    assert client.get(f"/complaints/{complaint_id}/photos/2").data == PNG + b"\x01"


@pytest.mark.parametrize("photos", [
    [(b"MZ\x90\x00 not an image", "a.png")],
    [(PNG, f"{i}.png") for i in range(4)]])
def test_bad_photos_are_refused_by_name(app, client, photos):
    from io import BytesIO

    response = client.post("/public/complaints/new", data={
        "kind": "tip", "subject": "misuse", "region_code": "140105", "content": "内容",
        "photos": [(BytesIO(data), name) for data, name in photos]}, content_type="multipart/form-data")
    assert response.status_code == 200 and "photos" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(PublicComplaint).count() == 0
