"""Sign in with a real browser and see the home page in Chinese, with nothing fetched from outside."""
from __future__ import annotations

import pytest

from tests.browser import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_sign_in_and_see_home_in_chinese(app, auth, browser_page):
    username = auth.user("coordinator", "140000")
    sign_in(browser_page, username, PASSWORD)
    assert browser_page.url.rstrip("/") == browser_page.base_url
    assert browser_page.locator("#role").inner_text() == "减灾委协调员"
    assert "山西省" in browser_page.locator("#jurisdiction").inner_text()
    assert browser_page.evaluate("document.documentElement.lang") == "zh-CN"
    # Bootstrap's CSS came from this server: the navbar is styled
    color = browser_page.evaluate("getComputedStyle(document.querySelector('nav')).backgroundColor")
    assert color != "rgba(0, 0, 0, 0)"
    browser_page.screenshot(path=str(app.instance_path) + "/home.png")


def test_wrong_password_shows_chinese_error(auth, browser_page):
    username = auth.user("officer", "140105")
    sign_in(browser_page, username, "wrong-password")
    assert "用户名或密码错误" in browser_page.content()
