"""The demo in a real browser (Debian's Chromium through chromedriver), as a newcomer uses it."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not shutil.which(CHROMIUM) or not shutil.which(CHROMEDRIVER):
        message = "Chromium and chromedriver are needed: apt-get install chromium chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="yiwang-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def test_portal_home_in_chinese_then_english(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(server.public + "/")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hans"
    assert "示例市" in browser.title
    switch = browser.find_element(By.CSS_SELECTOR, "nav.lang-switch a")
    switch.click()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"


def test_official_signs_in_to_the_workbench(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    password = (server.data_dir / "secrets" / "demo_password").read_text().strip()
    browser.get(server.internal + "/login/")
    browser.find_element(By.NAME, "username").send_keys("zwfw.reviewer1")
    browser.find_element(By.NAME, "password").send_keys(password + Keys.ENTER)
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
