"""The flow editor's script in headless Chromium (skipped when Chromium is not installed).

The editor is rendered by Django into a static page (file://), so no server is needed.
"""

from __future__ import annotations

import html
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.template.loader import render_to_string

from yiwang.enablement.workflow import bpmn_build
from yiwang.enablement.workflow import service as wf
from yiwang.enablement.workflow import spec as spec_module

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
STATIC = Path(__file__).resolve().parents[3] / "static" / "workflow"
DEPARTMENTS = [
    {
        "code": "scjg",
        "name": "市场监管局",
        "name_en": "",
        "positions": [{"code": "clerk", "name": "窗口"}, {"code": "head", "name": "负责人"}],
    }
]
FORM = {
    "version": 1,
    "components": [
        {"type": "number", "key": "amount", "label": "金额"},
        {"type": "text", "key": "kind", "label": "类别"},
    ],
}


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) or not shutil.which(CHROMEDRIVER):
        pytest.skip("Chromium and chromedriver are needed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="yiwang-wfe-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1280,900",
        "--disable-background-networking",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


def page(tmp_path: Path, spec: dict[str, Any] | None) -> str:
    context = wf.editor_context(
        spec, field_name="flow_spec", import_url="/import/", departments=DEPARTMENTS
    )
    body = render_to_string("workflow/editor.html", context)
    body = body.replace(f"{settings.STATIC_URL}workflow/", STATIC.as_uri() + "/")
    form = html.escape(json.dumps(FORM, ensure_ascii=False))
    path = tmp_path / "editor.html"
    path.write_text(
        '<!doctype html><html lang="zh"><meta charset="utf-8"><body><form>'
        f'<input type="hidden" name="form_definition" value="{form}">{body}'
        "</form></body></html>",
        encoding="utf-8",
    )
    return path.as_uri()


def output(driver: Any) -> dict[str, Any]:
    return json.loads(
        driver.execute_script("return document.querySelector('[data-testid=flow-output]').value")
    )


def test_build_a_flow_with_the_editor(driver: Any, tmp_path: Path, db: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    start = {
        "version": 1,
        "steps": [
            {
                "kind": "task",
                "id": "accept",
                "name": "受理",
                "department": "$matter",
                "position": "clerk",
                "days": 1,
            }
        ],
    }
    driver.get(page(tmp_path, start))

    def q(selector: str) -> Any:
        return driver.find_element(By.CSS_SELECTOR, selector)

    q("[data-testid=wfe-add-countersign]").click()
    # the new step's name field has the focus: type straight away
    driver.switch_to.active_element.send_keys("联合审查")
    step = q("[data-testid=wfe-step-countersign_1]")
    Select(step.find_elements(By.CSS_SELECTOR, "[data-testid=wfe-department]")[0]).select_by_value(
        "scjg"
    )
    step = q("[data-testid=wfe-step-countersign_1]")
    Select(step.find_elements(By.CSS_SELECTOR, "[data-testid=wfe-position]")[0]).select_by_value(
        "head"
    )
    q("[data-testid=wfe-add-gateway]").click()
    gateway = q("[data-testid=wfe-step-gateway_1]")
    gateway.find_element(By.CSS_SELECTOR, "[data-testid=wfe-cond-field]").send_keys("amount")
    Select(gateway.find_element(By.CSS_SELECTOR, "[data-testid=wfe-cond-op]")).select_by_value(">")
    gateway.find_element(By.CSS_SELECTOR, "[data-testid=wfe-cond-value]").send_keys("100")
    gateway.find_elements(By.CSS_SELECTOR, "[data-testid=wfe-branch-add-task]")[0].click()
    driver.switch_to.active_element.send_keys("现场核查")
    q("[data-testid=wfe-step-accept] [data-testid=wfe-timer-on]").send_keys(Keys.SPACE)
    # keyboard reordering: the moved step keeps the focus on its button
    q("[data-testid=wfe-step-countersign_1] [data-testid=wfe-up]").click()
    assert driver.switch_to.active_element.get_attribute("data-focus-key") == "countersign_1:down"

    spec = output(driver)
    assert [s["id"] for s in spec["steps"]] == ["countersign_1", "accept", "gateway_1"]
    assert spec["steps"][0]["parties"][0] == {"department": "scjg", "position": "head"}
    assert spec["steps"][1]["timer"] == {"after_days": 1, "action": "warn", "to_position": None}
    branch = spec["steps"][2]["branches"][0]
    assert branch["when"] == {">": [{"var": "amount"}, 100]}
    assert branch["steps"][0]["name"] == "现场核查"
    checked = spec_module.check_spec(spec, check_departments=False)
    assert bpmn_build.build_bpmn(checked).startswith("<?xml")
    # the diagram: start, end, 2 parallel gateways, 2 parties, accept, 2 exclusive, 1 task
    assert len(driver.find_elements(By.CSS_SELECTOR, "[data-testid=wfe-svg] g")) == 10
    # the field names of the form builder are offered for conditions
    options = driver.execute_script(
        "return Array.from(document.querySelectorAll("
        "'[data-testid=wfe-condition] datalist option')).map(function (o) { return o.value; })"
    )
    assert options == ["amount", "kind"]
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def test_raw_json_applies_and_bad_json_is_reported(driver: Any, tmp_path: Path, db: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.get(page(tmp_path, None))
    assert "还没有环节" in driver.find_element(By.CSS_SELECTOR, "[data-testid=wfe-steps]").text
    driver.find_element(By.CSS_SELECTOR, ".wfe__raw summary").click()
    raw = driver.find_element(By.CSS_SELECTOR, "[data-testid=flow-output]")
    raw.clear()
    raw.send_keys("{not json")
    driver.find_element(By.CSS_SELECTOR, "[data-testid=wfe-apply-json]").click()
    assert "JSON" in driver.find_element(By.CSS_SELECTOR, "[data-wfe-raw-error]").text
    raw.clear()
    raw.send_keys(
        json.dumps(
            {
                "version": 1,
                "steps": [{"kind": "task", "id": "x", "name": "审核", "department": "$matter"}],
            }
        )
    )
    driver.find_element(By.CSS_SELECTOR, "[data-testid=wfe-apply-json]").click()
    assert driver.find_elements(By.CSS_SELECTOR, "[data-testid=wfe-step-x]")
    driver.find_element(
        By.CSS_SELECTOR, "[data-testid=wfe-step-x] [data-testid=wfe-remove]"
    ).click()
    assert driver.switch_to.active_element.get_attribute("data-testid") == "wfe-add-task"
    assert output(driver) == {"version": 1, "steps": []}
