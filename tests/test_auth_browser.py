"""User management and my account in a real browser, CSRF on as in production: an admin's
refused and accepted new user, a reset with its one-time password, the forced change (a
mismatch refused, then done), and signing out another session from my account."""
from __future__ import annotations

import re

import pytest

from tests.browser import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

NEW_PASSWORD = "brand-new-pass-7"


def _submit(page, selector: str = "form[autocomplete=off] button[type=submit]") -> None:
    page.click(selector)
    page.wait_for_load_state("networkidle")


def _new_user(page, username: str, region: str) -> None:
    page.goto(page.base_url + "/users")
    page.fill("input[name=username]", username)
    page.fill("input[name=full_name]", "测试")
    page.select_option("select[name=role]", "officer")
    page.fill("input[name=region_code]", region)
    page.fill("input[name=password]", PASSWORD)
    _submit(page)


def test_an_admin_creates_and_resets_a_user_who_then_changes_the_password(app, auth, browser_page, _browser):
    page = browser_page
    sign_in(page, auth.user("admin", "140100", username="city-admin"), PASSWORD)
    _new_user(page, "bad name", "新荣区")  # outside 太原市, and a blank in the name
    text = page.locator("body").inner_text()
    assert "用户名：不能含空格" in text and "新荣区" in text
    assert page.locator("input[name=username]").input_value() == "bad name"  # what was typed stays
    _new_user(page, "lu", "小店区")
    assert "已创建用户 lu" in page.content() and "/users/" in page.url
    page.click("#user-actions button:has-text('重置密码')")
    page.wait_for_load_state("networkidle")
    temporary = page.locator("#temporary-password").inner_text().strip()
    assert re.fullmatch(r"\S{4}-\S{4}-\S{4}", temporary)

    other = _browser.new_context(locale="zh-CN").new_page()
    other.base_url = page.base_url
    try:
        sign_in(other, "lu", temporary)
        assert other.url.endswith("/account/password")
        other.fill("input[name=old_password]", temporary)
        other.fill("input[name=new_password]", NEW_PASSWORD)
        other.fill("input[name=confirm]", NEW_PASSWORD + "x")
        _submit(other)
        assert "两次输入的新密码不一致" in other.content()
        other.fill("input[name=old_password]", temporary)
        other.fill("input[name=new_password]", NEW_PASSWORD)
        other.fill("input[name=confirm]", NEW_PASSWORD)
        _submit(other)
        assert other.url.endswith("/account") and "密码已修改" in other.content()
    finally:
        other.context.close()


def test_sign_out_another_session_from_my_account(app, auth, browser_page, _browser):
    name = auth.user("officer", "140105")
    tablet = _browser.new_context(locale="zh-CN", user_agent="field-tablet").new_page()
    tablet.base_url = browser_page.base_url
    try:
        sign_in(tablet, name, PASSWORD)
        sign_in(browser_page, name, PASSWORD)
        browser_page.goto(browser_page.base_url + "/account")
        row = browser_page.locator("#sessions tr", has_text="field-tablet")
        row.locator("button[type=submit]").click()
        browser_page.wait_for_load_state("networkidle")
        assert "该会话已退出" in browser_page.content()
        assert "field-tablet" not in browser_page.locator("#sessions").inner_text()
        tablet.goto(tablet.base_url + "/account")
        assert "/login" in tablet.url
    finally:
        tablet.context.close()
