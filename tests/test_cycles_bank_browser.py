"""A county finance user, in a real browser, downloads a batch's payment file, imports the bank's
return file with three failures and sees them listed for re-issue (desktop and phone widths)."""
from __future__ import annotations

import os

import pytest
from openpyxl import load_workbook

from tests.browser import sign_in, screenshots
from tests.conftest import PASSWORD
from tests.test_cycles_bank import batch, return_file  # noqa: F401 (the fixture)

pytestmark = pytest.mark.browser
SHOTS = str(screenshots("bank"))


def shot(page, name):
    page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


@pytest.mark.parametrize("width", [1366, 375])
def test_finance_downloads_a_batch_imports_the_return_and_sees_the_failures(auth, batch, browser_page, tmp_path,  # noqa: F811
                                                                           width):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, auth.user("finance", "140105", username=f"caiwu{width}"), PASSWORD)
    page.goto(page.base_url + f"/cycles/{batch['cycle']}")
    with page.expect_navigation():
        page.locator("#payment-rolls a:has-text('对账')").first.click()
    assert page.locator("#total-issued").inner_text().startswith("5")
    with page.expect_download() as download:
        page.click("#bank-file")
    path = tmp_path / "bank.xlsx"
    download.value.save_as(path)
    sheet = load_workbook(path).active
    assert f"caiwu{width}" in sheet.cell(row=2, column=1).value  # the watermark
    lines = [row for row in sheet.iter_rows(min_row=4, values_only=True) if row[0] != "合计"]
    assert len(lines) == 5
    rows = [(row[8], row[2], row[5], "失败" if i < 3 else "成功", "账户已销户" if i < 3 else "")
            for i, row in enumerate(lines)]
    stream, _name = return_file(rows)
    upload = tmp_path / "回盘.xlsx"
    upload.write_bytes(stream.getvalue())
    page.set_input_files("input[name=file]", str(upload))
    with page.expect_navigation():
        page.click("#import-return")
    assert "已导入回盘" in page.content()
    failures = page.locator("#failure-list tbody tr")
    assert failures.count() == 3
    assert "账户已销户" in failures.first.inner_text() and "待下一批次重发" in failures.first.inner_text()
    assert page.locator("#total-failed").inner_text().startswith("3")
    assert page.locator("#total-paid").inner_text().startswith("2")
    shot(page, f"batch-{width}.png")
    page.goto(page.base_url + f"/cycles/fund-lines/{batch['line']}")
    assert "账实相符" in page.locator("#line-reconciliation").inner_text()
    shot(page, f"ledger-{width}.png")
    page.goto(page.base_url + f"/cycles/{batch['cycle']}")
    page.locator("#payment-rolls").scroll_into_view_if_needed()
    shot(page, f"cycle-{width}.png")


@pytest.mark.parametrize("width", [1366, 375])
def test_a_county_prints_its_fund_request(app, auth, browser_page, width):
    from tests.test_cycles_estimate import _event_with_reports

    event = _event_with_reports(app)
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, auth.user("coordinator", "140105", username=f"county{width}"), PASSWORD)
    page.goto(page.base_url + "/cycles/funds")
    page.click("#estimates summary")
    with page.expect_navigation():
        page.click(f"a[href='/cycles/events/{event}/fund-request']")
    assert page.locator("#need").inner_text() == "266,000.00"
    shot(page, f"fund-request-{width}.png")
