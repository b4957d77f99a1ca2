"""The demo in a real browser (Debian's Chromium through chromedriver), as a newcomer uses it."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.identity_steps import click_and_land

pytestmark = pytest.mark.e2e

def test_portal_home_in_chinese_then_english(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(server.public + "/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hans"
    assert "示例市" in browser.title
    switch = browser.find_element(By.CSS_SELECTOR, "nav.lang-switch a")
    click_and_land(browser, switch, "the English page")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"


def test_official_signs_in_to_the_workbench(server, browser):
    """Through the provider: password, then the code the local SMS gateway "sent"."""
    from tests.e2e.identity_steps import sign_in_official

    sign_in_official(server, browser, "zwfw.reviewer1")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "政务服务中心" in body
    browser.save_screenshot(str(server.data_dir / "workbench.png"))


def test_keyboard_user_can_skip_to_the_content(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(server.public + "/")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    href = browser.switch_to.active_element.get_attribute("href") or ""
    assert href.endswith("#main-content"), "the first Tab stop should be the skip link"
