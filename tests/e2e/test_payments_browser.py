"""统一支付 end to end on the demo server, in headless Chromium: a citizen finds the order
they still have to pay, goes to the simulated bank's cashier (a QR code for the phone),
confirms; the bank's signed notification reaches the platform through the worker, the order
turns paid, and the citizen downloads the sealed e-receipt. Screenshots:
var/artifacts/e2e/payments/.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.conftest import ROOT, Server, chromium
from tests.e2e.identity_steps import wait_for
from tests.e2e.trust_steps import sign_in_citizen

pytestmark = pytest.mark.e2e
PAYER = "citizen1"


def _shot(browser: Any, name: str) -> None:
    folder = Path(os.environ.get("YIWANG_E2E_ARTIFACTS") or ROOT / "var" / "artifacts" / "e2e"
                  ) / "payments"
    folder.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(folder / f"{name}.png"))


def _testid(browser: Any, name: str) -> Any:
    return browser.find_element(By.CSS_SELECTOR, f"[data-testid='{name}']")


def test_a_citizen_pays_at_the_bank_and_downloads_the_receipt(server: Server) -> None:
    with chromium() as browser:
        sign_in_citizen(server, browser, PAYER, next_url="/pay/")
        browser.get(f"{server.public}/pay/")
        row = wait_for(lambda: browser.find_element(
            By.CSS_SELECTOR, "[data-testid='my-order'][data-state='unpaid'] a"), "an order to pay")
        _shot(browser, "01-my-orders")
        row.click()
        wait_for(lambda: _testid(browser, "pay-form"), "the order's page")
        amount = _testid(browser, "amount").text
        _shot(browser, "02-order")
        _testid(browser, "pay").click()
        wait_for(lambda: _testid(browser, "qr"), "the bank's cashier with its QR code")
        assert amount in _testid(browser, "bank-summary").text
        _shot(browser, "03-bank-cashier")
        _testid(browser, "bank-confirm").click()
        # the bank notifies the platform a moment later (a background job): the page refreshes
        state = wait_for(lambda: browser.find_element(
            By.CSS_SELECTOR, "[data-testid='order-state'][data-state='paid']"),
            "the bank's notification", timeout=60)
        assert state
        receipt = wait_for(lambda: (browser.refresh(), _testid(browser, "receipt"))[1],
                           "the e-receipt", timeout=90)
        _shot(browser, "04-paid")
        head = browser.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {credentials: 'same-origin'}).then(function (r) {"
            "  return r.arrayBuffer().then(function (b) {"
            "    done([r.status, r.headers.get('Content-Type'),"
            "          String.fromCharCode.apply(null, new Uint8Array(b.slice(0, 5)))]); });"
            "});", receipt.get_attribute("href"))
        assert head == [200, "application/pdf", "%PDF-"], head
