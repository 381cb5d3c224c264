"""Public release (统一发布): a bulletin's numbers are the reviewed totals at its time, approval by
another user, corrections shown as such, the Atom feed, GeoJSON, CAP 1.2 validated against the
OASIS schema, and a crawl of every public URL for personal or unreleased data."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from lxml import etree

from app.extensions import db
from app.releases.models import Release
from app.reports import event_totals, total_for
from tests.test_responses_support import Reporter, create_event, load_plans

CAP_SCHEMA = Path(__file__).parent / "data" / "cap" / "CAP-v1.2.xsd"
ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@pytest.fixture
def event(app, client, auth):
    load_plans(app)
    headers = auth.token("coordinator", "140000", username="reporter")
    event_id = create_event(client, headers, ["140105", "140106"])
    report = Reporter(client, headers, event_id)
    report("140105", deaths=9, missing=3, collapsed_rooms=120)
    report("140106", deaths=2, missing=1, collapsed_rooms=40)
    client.post(f"/api/v1/events/{event_id}/responses", headers=headers, json={
        "plan_id": "shanxi-provincial-sample", "region_code": "140000", "level": "三级",
        "action": "start", "reason": "会商研判"})
    auth.logout()
    return {"id": event_id, "report": report, "headers": headers}


def draft(client, auth, event_id, username="drafter", **extra):
    auth.login("coordinator", "140000", username=username)
    response = client.post("/releases/", data={"event_id": event_id, "summary": "全省平稳有序。",
                                               "relief": "下拨省级救灾资金 500 万元。", **extra})
    auth.logout()
    return response


def approve(client, auth, release_id, username="approver"):
    auth.login("coordinator", "140000", username=username)
    response = client.post(f"/releases/{release_id}/approve")
    auth.logout()
    return response


def only_release(app, version=1) -> Release:
    with app.app_context():
        return db.session.query(Release).filter_by(version=version).one()


def test_bulletin_numbers_are_the_totals_at_its_time(app, client, auth, event):
    assert draft(client, auth, event["id"]).status_code == 302
    release = only_release(app)
    with app.app_context():
        totals = event_totals(event["id"])
        province = total_for("140000", totals)
        assert release.figures["total"] == province.figures
        assert release.as_of == province.as_of
        counties = {c["code"]: c["figures"] for c in release.figures["counties"]}
        assert counties == {code: totals[code].figures for code in ("140105", "140106")}
    assert release.figures["total"]["deaths"] == 11
    assert [r["level"] for r in release.responses] == ["三级"]
    # a draft is not public, and its drafter cannot publish it
    assert client.get(f"/public/releases/{release.id}").status_code == 404
    assert approve(client, auth, release.id, username="drafter").status_code == 302
    assert only_release(app).status == "draft"
    assert approve(client, auth, release.id).status_code == 302
    assert only_release(app).status == "approved"
    # later reports change the totals, not the published bulletin
    event["report"]("140105", deaths=15, missing=3, collapsed_rooms=130)
    html = client.get(f"/public/releases/{release.id}").get_data(as_text=True)
    assert 'data-field="deaths"' in html and ">11 人<" in html and "15 人" not in html


def test_a_correction_says_it_is_one_and_what_changed(app, client, auth, event):
    draft(client, auth, event["id"])
    approve(client, auth, only_release(app).id)
    event["report"]("140105", deaths=15, missing=3, collapsed_rooms=130)
    refused = draft(client, auth, event["id"])  # no change note
    assert refused.status_code == 200 and "更正" in refused.get_data(as_text=True)
    assert draft(client, auth, event["id"], change_note="小店区核报死亡人数。").status_code == 302
    second = only_release(app, 2)
    approve(client, auth, second.id)
    first = only_release(app, 1)
    assert second.corrects_id == first.id
    changed = {(c["where"], c["what"]): (c["before"], c["after"]) for c in second.changes}
    assert changed[("山西省", "因灾死亡人口")] == (11, 17)
    assert changed[("小店区", "因灾死亡人口")] == (9, 15)
    html = client.get(f"/public/releases/{second.id}").get_data(as_text=True)
    assert 'id="correction"' in html and "小店区核报死亡人数。" in html and "11 → 17" in html and "1,000,000" in html
    old = client.get(f"/public/releases/{first.id}").get_data(as_text=True)
    assert 'id="superseded"' in old
    listing = client.get("/public/").get_data(as_text=True)
    assert listing.count("更正</span>") == 2 and listing.count("已被更正</span>") == 1


def test_public_text_refuses_personal_data(app, client, auth, event):
    response = draft(client, auth, event["id"], summary="联系人 13812345678")
    assert response.status_code == 200
    assert "身份证号或电话号码" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Release).count() == 0


def test_feed_and_geojson(app, client, auth, event):
    draft(client, auth, event["id"])
    release = only_release(app)
    feed = etree.fromstring(client.get("/public/releases.atom").data)
    atom = "{http://www.w3.org/2005/Atom}"
    assert feed.findall(f"{atom}entry") == []  # nothing approved yet
    approve(client, auth, release.id)
    response = client.get("/public/releases.atom")
    assert response.mimetype == "application/atom+xml"
    feed = etree.fromstring(response.data)
    entries = feed.findall(f"{atom}entry")
    assert len(entries) == 1 and entries[0].find(f"{atom}title").text == release.title
    for required in ("id", "title", "updated"):
        assert feed.find(f"{atom}{required}") is not None and entries[0].find(f"{atom}{required}") is not None
    geo = json.loads(client.get(f"/public/releases/{release.id}.geojson").data)
    assert geo["type"] == "FeatureCollection"
    by_code = {f["id"]: f for f in geo["features"]}
    assert set(by_code) == {"140105", "140106"}
    assert by_code["140105"]["properties"]["deaths"] == 9
    assert by_code["140105"]["geometry"]["type"] == "Point"


def _cap_schema():
    return etree.XMLSchema(etree.parse(str(CAP_SCHEMA)))


def test_cap_alerts_validate_against_the_cap_1_2_schema(app, client, auth, event):
    schema = _cap_schema()
    draft(client, auth, event["id"])
    first = only_release(app)
    assert client.get(f"/public/releases/{first.id}/cap.xml").status_code == 404  # a draft
    approve(client, auth, first.id)
    response = client.get(f"/public/releases/{first.id}/cap.xml")
    assert response.mimetype == "application/cap+xml"
    alert = etree.fromstring(response.data)
    schema.assertValid(alert)
    cap = "{urn:oasis:names:tc:emergency:cap:1.2}"
    assert alert.find(f"{cap}msgType").text == "Alert"
    assert alert.find(f"{cap}info/{cap}severity").text == "Moderate"  # 三级
    # the level is raised: the correction's alert is an Update referencing the first
    client.post(f"/api/v1/events/{event['id']}/responses", headers=event["headers"], json={
        "plan_id": "shanxi-provincial-sample", "region_code": "140000", "level": "二级",
        "action": "adjust", "reason": "灾情加重"})
    draft(client, auth, event["id"], change_note="省级响应提升为二级。")
    second = only_release(app, 2)
    approve(client, auth, second.id)
    update = etree.fromstring(client.get(f"/public/releases/{second.id}/cap.xml").data)
    schema.assertValid(update)
    assert update.find(f"{cap}msgType").text == "Update"
    assert f"jiuzai-release-{first.id}" in update.find(f"{cap}references").text
    assert update.find(f"{cap}info/{cap}severity").text == "Severe"


def test_cap_schema_catches_a_broken_alert():
    """The schema the tests validate against is strict enough to refuse a wrong alert."""
    bad = etree.fromstring(b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier>'
                           b'<sender>s</sender><sent>2026-07-01T10:00:00Z</sent></alert>')
    assert not _cap_schema().validate(bad)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


def crawl(client, start: str = "/public/") -> dict[str, str]:
    """Every page reachable from ``start`` under ``/public/`` (and the static files it names)."""
    seen: dict[str, str] = {}
    queue = [start]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        body = response.get_data(as_text=True)
        seen[url] = body
        if response.mimetype == "text/html":
            parser = _Links()
            parser.feed(body)
            for link in parser.links:
                target = urlparse(urljoin(url, link))
                if target.netloc or not target.path.startswith("/public/"):
                    continue
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return seen


def test_public_crawl_finds_nothing_personal_or_unreleased(app, client, auth, event):
    from tests.test_complaints import file_complaint, seed_household

    household_id = seed_household(app)
    draft(client, auth, event["id"])
    approve(client, auth, only_release(app).id)
    # after the approval: a later report, and a new draft with it, neither of them public
    event["report"]("140106", deaths=2, missing=1, collapsed_rooms=40, direct_loss_10k_cny=987654)
    draft(client, auth, event["id"], change_note="新增直接经济损失。", summary="草稿中的说明 Q7X")
    ticket = file_complaint(client, contact="13912345678", name="王某",
                            content="我的身份证 110101199003077777，电话 13912345678")
    auth.login("coordinator", "140105", username="county-handler")
    with app.app_context():
        from app.complaints.models import PublicComplaint

        complaint_id = db.session.query(PublicComplaint).one().id
    client.post(f"/complaints/{complaint_id}/household", data={"household_id": household_id})
    client.post(f"/complaints/{complaint_id}/answer", data={"answer": "经核实，已纠正。"})
    auth.logout()
    pages = crawl(client)
    pages.update(crawl(client, f"/public/complaints/track?ticket={ticket}"))
    assert any("/public/releases/" in url for url in pages) and any(url.endswith(".atom") for url in pages)
    assert any("经核实，已纠正。" in body for body in pages.values())
    for url, body in pages.items():
        assert not ID_NUMBER.search(body), url
        assert not PHONE.search(body), url
        assert "987654" not in body and "987,654" not in body, url
        assert "Q7X" not in body and "新增直接经济损失" not in body, url
        assert "王某" not in body and "示例户主" not in body, url


def test_public_pages_in_english(client):
    html = client.get("/public/?lang=en").get_data(as_text=True)
    assert "Disaster bulletins" in html and "File a complaint" in html
    form = client.get("/public/complaints/new?lang=en").get_data(as_text=True)
    assert "Anonymous (no name or contact)" in form


def test_scope_is_a_region_inside_the_jurisdiction(app, client, auth, event):
    auth.login("admin", "000000", username="national")
    refused = client.post("/releases/", data={"event_id": event["id"]})  # no region 000000 in the table
    assert refused.status_code == 200 and "region_code" in refused.get_data(as_text=True)
    assert client.post("/releases/", data={"event_id": event["id"], "region_code": "140105"}).status_code == 302
    auth.login("coordinator", "140105", username="county")
    outside = client.post("/releases/", data={"event_id": event["id"], "region_code": "140106"})
    assert outside.status_code == 200
    with app.app_context():
        rows = db.session.query(Release).all()
        assert [(r.region_code, r.figures["total"]["deaths"]) for r in rows] == [("140105", 9)]


def test_the_api_drafts_approves_and_publishes(app, client, auth, event):
    drafter = auth.token("coordinator", "140000", username="api-drafter")
    approver = auth.token("coordinator", "140000", username="api-approver")
    bad = client.post("/api/v1/releases", headers=drafter, json={"event_id": "x", "summary": "电话 13812345678"})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert {e["field"] for e in bad.get_json()["errors"]} == {"event_id", "summary"}
    made = client.post("/api/v1/releases", headers=drafter, json={"event_id": event["id"]})
    assert made.status_code == 201 and made.get_json()["status"] == "draft"
    release_id = made.get_json()["id"]
    assert client.get("/api/v1/public/releases").get_json() == []
    assert client.post(f"/api/v1/releases/{release_id}/approval", headers=drafter).status_code == 403
    officer = auth.token("officer", "140000")
    assert client.post(f"/api/v1/releases/{release_id}/approval", headers=officer).status_code == 403
    approved = client.post(f"/api/v1/releases/{release_id}/approval", headers=approver)
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    assert client.post(f"/api/v1/releases/{release_id}/approval", headers=approver).status_code == 409
    published = client.get("/api/v1/public/releases").get_json()
    assert [r["id"] for r in published] == [release_id] and "drafted_by_id" not in published[0]


def test_a_draft_overtaken_by_another_publication_is_refused(app, client, auth, event):
    draft(client, auth, event["id"], username="first")
    draft(client, auth, event["id"], username="second")
    with app.app_context():
        first, second = db.session.query(Release).order_by(Release.id).all()
    assert approve(client, auth, first.id).status_code == 302
    response = approve(client, auth, second.id)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Release, second.id).status == "draft"  # refused: 409 flashed
