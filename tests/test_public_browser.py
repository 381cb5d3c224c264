"""In a real browser: a member of the public files a complaint on a phone (375 px), the county
handles it, the public reads the answer by ticket number; a bulletin on a phone and printed; two coordinators draft and
approve a bulletin; 住建 reads only its columns."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import screenshots, sign_in
from tests.conftest import PASSWORD
from tests.factories import make_user
from tests.test_responses_support import Reporter, create_event, load_plans

pytestmark = pytest.mark.browser
SHOTS = screenshots("public")


def tiny_png(path: Path) -> Path:
    """A real 8 × 8 PNG (red), for the photo the complainant attaches."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xdc\x35\x45" * 8 for _ in range(8))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def submit(page, selector):
    with page.expect_navigation():
        page.locator(selector).first.click()


def test_public_complaint_on_a_phone_handled_by_the_county(app, auth, browser_page, tmp_path):
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(page.base_url + "/public/")
    submit(page, "a:has-text('我要投诉举报')")
    page.select_option("select[name=subject]", "amount")
    page.select_option("select[name=region_code]", "140105")
    page.fill("input[name=household_named]", "示例一村 张某")
    page.fill("textarea[name=content]", "张某家的过渡期救助金少发了一个月。")
    assert page.locator("input[name=name]").is_visible()
    page.check("input[name=anonymous]")
    assert not page.locator("input[name=name]").is_visible()  # anonymous: no name, no contact asked
    page.set_input_files("input[name=photos]", str(tiny_png(tmp_path / "scene.png")))
    shot(page, "complaint-form-375")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the form scrolls sideways on a phone ({width} px)"
    submit(page, "#submit-complaint")
    ticket = page.locator("#new-ticket").inner_text()
    assert ticket.startswith("TS") and page.locator("#ticket-state").inner_text() == "办理中"
    shot(page, "complaint-ticket-375")

    county = page.context.browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    staff = county.new_page()
    staff.base_url = page.base_url
    sign_in(staff, auth.user("coordinator", "140105", username="county-co"), PASSWORD)
    staff.goto(staff.base_url + "/complaints/")
    with staff.expect_navigation():
        staff.click(f"a:has-text('{ticket}')")
    assert staff.locator("#identity").inner_text() == "匿名"
    assert staff.locator("#photos img").evaluate("img => img.naturalWidth") == 8  # the photo, shown to the county
    staff.fill("#answer-text", "经核实，8 月过渡期救助金因银行退票未到账，已于次日补发。")
    shot(staff, "complaint-handle-1366")
    with staff.expect_navigation():
        staff.click("#send-answer")
    assert staff.locator("#status").inner_text() == "已答复"
    county.close()

    page.goto(page.base_url + "/public/complaints/track")
    page.fill("input[name=ticket]", ticket)
    submit(page, "#track-form button")
    assert page.locator("#ticket-state").inner_text() == "已答复"
    assert "已于次日补发" in page.locator("#ticket-answer").inner_text()
    shot(page, "complaint-answer-375")


def publish(app, event_id, **extra):
    from app.releases import service

    with app.app_context():
        drafter, approver = make_user("coordinator", "140000", "drafter"), make_user("coordinator", "140000", "approver")
        row = service.draft_release(drafter, {"event_id": event_id, "summary": "各地抢险救灾有序开展。",
                                              "relief": "下拨省级自然灾害救灾资金 500 万元，调运帐篷 800 顶。", **extra})
        service.approve_release(approver, row.id)


def test_bulletin_on_a_phone_and_printed(app, client, auth, browser_page):
    load_plans(app)
    headers = auth.token("coordinator", "140000", username="reporter")
    event_id = create_event(client, headers, ["140105", "140106"])
    report = Reporter(client, headers, event_id)
    report("140105", deaths=9, missing=3, collapsed_rooms=120, direct_loss_10k_cny=5300)
    report("140106", deaths=2, missing=1, collapsed_rooms=40, direct_loss_10k_cny=800)
    client.post(f"/api/v1/events/{event_id}/responses", headers=headers, json={
        "plan_id": "shanxi-provincial-sample", "region_code": "140000", "level": "三级", "action": "start", "reason": "会商研判"})
    publish(app, event_id)  # the live server checks CSRF: the staff side goes through the service
    report("140105", deaths=12, missing=2, collapsed_rooms=150, direct_loss_10k_cny=6100)
    publish(app, event_id, change_note="小店区核报：死亡、失踪人数和倒塌房屋更新。")
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(page.base_url + "/public/")
    shot(page, "public-index-375")
    submit(page, "#releases a >> nth=0")
    assert "更正" in page.locator("#correction").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "bulletin-375")
    page.set_viewport_size({"width": 1366, "height": 900})
    shot(page, "bulletin-1366")
    page.emulate_media(media="print")
    assert not page.locator("nav.navbar").is_visible()
    shot(page, "bulletin-print")


def test_coordinators_draft_preview_and_approve(app, client, auth, browser_page):
    headers = auth.token("coordinator", "140000", username="reporter")
    event_id = create_event(client, headers, ["140105"])
    Reporter(client, headers, event_id)("140105", deaths=3, missing=1, collapsed_rooms=20)
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, auth.user("coordinator", "140000", username="drafter"), PASSWORD)
    page.goto(page.base_url + "/releases/")
    page.fill("textarea[name=summary]", "小店区局地暴雨，抢险救灾有序开展。")
    submit(page, "#draft-release button[type=submit]")
    assert page.locator("#preview-banner").is_visible()
    assert page.locator("#approve").count() == 0  # the drafter cannot approve
    shot(page, "release-preview-1366")
    preview_url = page.url
    page.context.clear_cookies()
    sign_in(page, auth.user("coordinator", "140000", username="approver"), PASSWORD)
    page.goto(preview_url)
    submit(page, "#approve")
    assert page.locator("#status").inner_text() == "已发布"
    with page.expect_navigation():
        page.click("text=公众页面")
    assert "/public/releases/" in page.url and page.locator("#totals").is_visible()


def test_a_department_reads_only_its_fields(app, auth, browser_page):
    from tests.test_cycles_support import make_household

    make_household(app, head_name="赵大", address="示例一村 3 组", damage_class="severely_damaged")
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, auth.user("dept_housing", "140105", username="zhujian"), PASSWORD)
    page.goto(page.base_url + "/departments/")
    headings = page.locator("#roster thead th").all_inner_texts()
    assert headings == ["村（社区）", "户主", "住址", "房屋损坏等级", "重建进度"]
    shot(page, "departments-housing-1366")
