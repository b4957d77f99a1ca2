"""信用公示 end to end on the demo server, in headless Chromium: a visitor searches credit
publicity and looks at the black list; the first demo citizen opens 我的信用, objects to the
fresh city-management penalty on their own name, and that record leaves publicity at once.
Screenshots: var/artifacts/e2e/credit/.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.conftest import ROOT, Server, chromium
from tests.e2e.identity_steps import wait_for
from tests.e2e.trust_steps import sign_in_citizen

pytestmark = pytest.mark.e2e
CITIZEN = "citizen1"
PENALTY = "示城管罚〔2026〕901号"  # the demo's penalty of citizen1 (yiwang/demo/credit.py)


def _shot(browser: Any, name: str) -> None:
    folder = Path(os.environ.get("YIWANG_E2E_ARTIFACTS") or ROOT / "var" / "artifacts" / "e2e"
                  ) / "credit"
    folder.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(folder / f"{name}.png"))


def _testid(browser: Any, name: str) -> Any:
    return browser.find_element(By.CSS_SELECTOR, f"[data-testid='{name}']")


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - local server
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_publicity_and_an_objection_that_suspends_it(server: Server) -> None:
    with chromium() as browser:
        browser.get(f"{server.public}/credit/")
        rows = wait_for(lambda: browser.find_elements(
            By.CSS_SELECTOR, "[data-testid='credit-record']"), "penalties on publicity")
        assert rows
        _shot(browser, "01-publicity")
        _testid(browser, "tab-black").click()
        entries = wait_for(lambda: browser.find_elements(
            By.CSS_SELECTOR, "[data-testid='credit-entry']"), "the black list")
        assert any("认定" in e.text or "办法" in e.text for e in entries)
        _shot(browser, "02-black-list")
        sign_in_citizen(server, browser, CITIZEN, next_url="/credit/mine/")
        browser.get(f"{server.public}/credit/mine/")
        row = wait_for(lambda: next(r for r in browser.find_elements(
            By.CSS_SELECTOR, "[data-testid='my-record']") if PENALTY in r.text),
            "the citizen's own penalty")
        assert row.get_attribute("data-publication") == "published"
        record_link = row.find_element(By.CSS_SELECTOR, "[data-testid='object']")
        pk = record_link.get_attribute("href").rstrip("/").split("/")[-1]
        assert _status(f"{server.public}/credit/records/{pk}/") == 200
        _shot(browser, "03-my-credit")
        record_link.click()
        wait_for(lambda: _testid(browser, "dispute-form"), "the objection form")
        _testid(browser, "submit-dispute").click()  # empty: refused with a message
        assert "异议的理由" in wait_for(lambda: _testid(browser, "errors"), "the message").text
        browser.find_element(By.ID, "statement").send_keys("当天我不在现场,摊位不是我的。")
        _shot(browser, "04-objection")
        _testid(browser, "submit-dispute").click()
        wait_for(lambda: _testid(browser, "my-disputes"), "the filed objection")
        row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "[data-testid='my-record']")
                   if PENALTY in r.text)
        assert row.get_attribute("data-publication") == "suspended"
        _shot(browser, "05-suspended")
        assert _status(f"{server.public}/credit/records/{pk}/") == 404
