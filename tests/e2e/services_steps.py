"""Steps of putting a service online and handling an application in a real browser, shared by
e2e tests: the workbench's service builder (matter, guide, version with the form builder and
the flow editor, licence mapping, publish), the official's inbox (claim, 补正, approve), and
the screenshots kept as test artifacts.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.e2e.conftest import ROOT, Server
from tests.e2e.identity_steps import body_text, click_and_land, wait_for


def artifacts_dir() -> Path:
    """Where the screenshots go: ``$YIWANG_E2E_ARTIFACTS`` or var/artifacts/e2e/services/."""
    folder = Path(os.environ.get("YIWANG_E2E_ARTIFACTS")
                  or ROOT / "var" / "artifacts" / "e2e" / "services")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(browser: Any, name: str) -> Path:
    """A full-height screenshot of the page as ``<name>.png`` in the artifacts folder."""
    path = artifacts_dir() / f"{name}.png"
    height = browser.execute_script(
        "return Math.min(document.documentElement.scrollHeight, 6000);")
    browser.set_window_size(1280, max(900, int(height)))
    browser.execute_script("window.scrollTo(0, 0);")
    try:
        assert browser.save_screenshot(str(path)), path
    finally:
        browser.set_window_size(1280, 900)
    return path


def by_testid(browser: Any, name: str, within: Any = None) -> Any:
    return (within or browser).find_element(By.CSS_SELECTOR, f"[data-testid='{name}']")


def click(browser: Any, element: Any) -> None:
    """Scroll ``element`` into view and click it (the builder's page is long)."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def type_into(browser: Any, element: Any, text: str) -> None:
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.clear()
    element.send_keys(text)


# --- the form builder ----------------------------------------------------------------------

def prop(browser: Any, name: str) -> Any:
    """The property input ``name`` of the component selected in the builder."""
    return browser.find_element(By.CSS_SELECTOR, f"[data-fb-props] [data-prop='{name}']")


def add_component(browser: Any, kind: str, *, key: str, label: str,
                  required: bool = False, prefill: str = "",
                  extra: dict[str, str] | None = None) -> None:
    """Click the palette button of ``kind`` and fill the new component's properties."""
    click(browser, by_testid(browser, f"palette-{kind}"))
    type_into(browser, prop(browser, "key"), key)
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR,
                                           f"[data-testid='canvas-item-{key}']"),
             f"the canvas item {key}")
    type_into(browser, prop(browser, "label"), label)
    if required and not prop(browser, "required").is_selected():
        click(browser, prop(browser, "required"))
    if prefill:
        Select(prop(browser, "prefill")).select_by_value(prefill)
    for name, value in (extra or {}).items():
        type_into(browser, prop(browser, name), value)


def set_condition(browser: Any, field: str, op: str, value: str) -> None:
    """The condition editor of the selected component: show it when ``field op value``."""
    Select(by_testid(browser, "cond-field")).select_by_value(field)
    Select(by_testid(browser, "cond-op")).select_by_value(op)
    type_into(browser, by_testid(browser, "cond-value"), value)
    click(browser, by_testid(browser, "cond-set"))


def builder_output(browser: Any) -> dict[str, Any]:
    return dict(json.loads(by_testid(browser, "builder-output").get_attribute("value")))


# --- the flow editor -----------------------------------------------------------------------

def _steps(browser: Any) -> int:
    return len(browser.find_elements(By.CSS_SELECTOR, "[data-testid^='wfe-step-']"))


def add_task(browser: Any, step_id: str, name: str, department: str, position: str) -> None:
    """A task step from the flow editor's 添加 button: its name, department and position.

    On a loaded machine the first click can land before the editor's script has bound the
    button: when no step was added, click again (never twice for one step)."""
    before = _steps(browser)
    for _attempt in range(3):
        click(browser, by_testid(browser, "wfe-add-task"))
        deadline = time.monotonic() + 5
        while _steps(browser) == before and time.monotonic() < deadline:
            time.sleep(0.1)
        if _steps(browser) > before:
            break
    step = wait_for(lambda: by_testid(browser, f"wfe-step-{step_id}"), f"the step {step_id}")
    name_input = by_testid(browser, "wfe-name", step)
    name_input.clear()
    name_input.send_keys(name)
    Select(by_testid(browser, "wfe-department", by_testid(browser, f"wfe-step-{step_id}"))
           ).select_by_value(department)
    Select(by_testid(browser, "wfe-position", by_testid(browser, f"wfe-step-{step_id}"))
           ).select_by_value(position)


def flow_output(browser: Any) -> dict[str, Any]:
    return dict(json.loads(browser.execute_script(
        "return document.querySelector('[data-testid=flow-output]').value")))


# --- the official's inbox ------------------------------------------------------------------

def open_from_inbox(server: Server, browser: Any, number: str) -> None:
    """Find the application by its receipt number in 待办 and open it."""
    browser.get(f"{server.internal}/inbox/?q={number}")

    def row() -> Any:
        links = browser.find_elements(
            By.XPATH, f"//tr[@data-testid='inbox-row']//a[code[normalize-space()='{number}']]")
        if not links:
            browser.refresh()
        return links[0] if links else None

    click_and_land(browser, wait_for(row, f"{number} in the inbox"), "the application")


def task_section(browser: Any) -> Any:
    """The open task of the application the official may act on (its section)."""
    def find() -> Any:
        for section in browser.find_elements(By.CSS_SELECTOR, "section[data-testid^='task-']"):
            if section.find_elements(By.CSS_SELECTOR,
                                     "[data-testid='claim'], [data-testid='approve']"):
                return section
        return None

    return wait_for(find, "a task this official may act on")


def claim(browser: Any) -> Any:
    """签收 the open task if it is not claimed yet; the task's section afterwards."""
    section = task_section(browser)
    buttons = section.find_elements(By.CSS_SELECTOR, "[data-testid='claim']")
    if buttons:
        click_and_land(browser, buttons[0], "the application after 签收")
        section = task_section(browser)
    return section


def state_of(browser: Any) -> str:
    return str(by_testid(browser, "state").get_attribute("data-state"))


# --- the wallet ----------------------------------------------------------------------------

def wallet_pks(server: Server, browser: Any, type_code: str) -> set[int]:
    browser.get(f"{server.public}/licences/?type={type_code}")
    wait_for(lambda: "/licences/" in browser.current_url and body_text(browser), "the wallet")
    return {int(pk) for pk in re.findall(r'href="/licences/(\d+)/"', browser.page_source)}
