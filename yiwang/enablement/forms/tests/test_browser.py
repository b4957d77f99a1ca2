"""The builder and the renderer in a real browser (Debian's Chromium through chromedriver).

The pages are the test pages of ``pages.py`` opened from files (no server): the builder writes
a definition that the server-side check accepts; the rendered form evaluates conditions and
calculations live, adds table rows, and posts what ``parse_post`` reads back.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.http import QueryDict

from yiwang.enablement.forms import service as forms
from yiwang.enablement.forms import testing
from yiwang.enablement.forms.tests.pages import page_html, write_page

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) or not shutil.which(CHROMEDRIVER):
        message = "Chromium and chromedriver are needed: apt-get install chromium chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="yiwang-forms-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--window-size=1400,1000", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait(driver: Any, condition: Any, timeout: float = 5) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # The builder's preview is redrawn after each change: an element may go stale meanwhile.
    return WebDriverWait(driver, timeout, ignored_exceptions=(
        StaleElementReferenceException,)).until(condition)


def by_testid(driver: Any, testid: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f"[data-testid='{testid}']")


def output(driver: Any) -> dict[str, Any]:
    return json.loads(by_testid(driver, "builder-output").get_attribute("value"))


DRAG = """
const [source, target] = arguments;
const data = new DataTransfer();
source.dispatchEvent(new DragEvent('dragstart', {bubbles: true, dataTransfer: data}));
const rect = target.getBoundingClientRect();
const at = {bubbles: true, cancelable: true, dataTransfer: data,
            clientX: rect.left + 5, clientY: rect.top + 3};
target.dispatchEvent(new DragEvent('dragover', at));
target.dispatchEvent(new DragEvent('drop', at));
"""


def test_builder_makes_a_definition_the_server_accepts(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(write_page(tmp_path, page_html(builder=True)).as_uri())
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".fb__empty"))

    # Keyboard/click: a choice and a text field from the palette.
    by_testid(browser, "palette-choice").click()
    label = browser.find_element(By.CSS_SELECTOR, "[data-fb-props] [data-prop='label']")
    assert browser.switch_to.active_element == label       # focus moved to the properties
    label.clear()
    label.send_keys("是否代办")
    key = browser.find_element(By.CSS_SELECTOR, "[data-fb-props] [data-prop='key']")
    key.clear()
    key.send_keys("agent")
    heading = browser.find_element(By.CSS_SELECTOR, "[data-fb-props] .notice__title")
    assert heading.text.endswith("· agent")  # the panel's heading follows the new key
    options = browser.find_element(By.CSS_SELECTOR, "[data-fb-props] [data-prop='options']")
    options.clear()
    options.send_keys("yes|是|Yes\nno|否|No")
    by_testid(browser, "palette-text").click()
    label = browser.find_element(By.CSS_SELECTOR, "[data-fb-props] [data-prop='label']")
    label.clear()
    label.send_keys("代办人姓名")
    browser.find_element(By.CSS_SELECTOR, "[data-fb-props] [data-prop='required']").click()

    # The condition editor: show the text field only when agent == yes.
    Select(by_testid(browser, "cond-field")).select_by_value("agent")
    Select(by_testid(browser, "cond-op")).select_by_value("==")
    by_testid(browser, "cond-value").send_keys("yes")
    by_testid(browser, "cond-set").click()
    definition = output(browser)
    assert definition["components"][1]["conditional"] == {"==": [{"var": "agent"}, "yes"]}

    # HTML5 drag and drop: a number field dropped at the top of the canvas.
    browser.execute_script(DRAG, by_testid(browser, "palette-number"),
                           by_testid(browser, "canvas-item-agent"))
    definition = output(browser)
    assert [c["type"] for c in definition["components"]] == ["number", "choice", "text"]

    # Keyboard reordering: move the number field down twice.
    by_testid(browser, "number_1-down").click()
    wait(browser, lambda d: by_testid(d, "number_1-down"))
    by_testid(browser, "number_1-down").click()
    definition = output(browser)
    assert [c["key"] for c in definition["components"]] == ["agent", "text_1", "number_1"]
    assert browser.switch_to.active_element.get_attribute("data-testid") == "number_1-down"

    # Keyboard restructuring: a section, the text field moved into it and out again.
    by_testid(browser, "palette-section").click()
    by_testid(browser, "item-agent").click()           # select the choice: the section's
    by_testid(browser, "section_1-up").click()         # ...move the section above text_1
    by_testid(browser, "section_1-up").click()
    assert [c["key"] for c in output(browser)["components"]] == [
        "agent", "section_1", "text_1", "number_1"]
    by_testid(browser, "text_1-in").click()
    definition = output(browser)
    assert [c["key"] for c in definition["components"][1]["components"]] == ["text_1"]
    assert browser.switch_to.active_element.get_attribute("data-testid") == "item-text_1"
    by_testid(browser, "text_1-out").click()
    definition = output(browser)
    assert [c["key"] for c in definition["components"]] == [
        "agent", "section_1", "text_1", "number_1"]
    by_testid(browser, "section_1-remove").click()
    definition = output(browser)
    assert [c["key"] for c in definition["components"]] == ["agent", "text_1", "number_1"]

    # The server accepts what the builder wrote.
    checked = forms.check_definition(definition)
    assert checked["components"][0]["options"][1] == {"value": "no", "label": "否",
                                                      "label_en": "No"}
    assert checked["components"][1]["required"] is True

    # Live preview: the conditional field appears when "yes" is chosen.
    wait(browser, lambda d: by_testid(d, "preview").get_attribute("aria-busy") is None)
    preview = "[data-testid='preview'] [data-key='text_1'][data-conditional]"
    wait(browser, lambda d: not d.find_element(By.CSS_SELECTOR, preview).is_displayed())
    Select(browser.find_element(By.CSS_SELECTOR, "[data-testid='preview'] select")).select_by_value(
        "yes")
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, preview).is_displayed())
    # Nothing of the preview would be posted with the builder's form.
    posted = browser.execute_script(
        "return [...new FormData(document.getElementById('builder-form')).keys()];")
    assert posted == ["form_definition"]


def test_rendered_form_is_live_and_posts_what_parse_post_reads(browser: Any,
                                                               tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    definition = forms.check_definition(testing.sample_definition())
    data = {"rooms": [{"room": "前厅", "area": 20}]}
    browser.get(write_page(tmp_path, page_html(render=True, definition=definition,
                                               data=data)).as_uri())
    total = wait(browser, lambda d: d.find_element(By.ID, "id_total_area"))
    wait(browser, lambda d: total.get_attribute("value") == "20")

    # A condition: the family members table shows only for family operators.
    members = browser.find_element(By.ID, "id_members")
    assert not members.is_displayed()
    browser.find_element(By.CSS_SELECTOR, "input[name='kind'][value='family']").click()
    wait(browser, lambda d: members.is_displayed())

    # Table rows: the data's row and a blank one (for browsers without JavaScript); add one,
    # fill it, the total is recalculated; the blank row is not posted.
    by_testid(browser, "rooms-add-row").click()
    cells = browser.find_elements(By.CSS_SELECTOR, "#id_rooms tbody input[name$='.area']")
    assert len(cells) == 3
    assert browser.switch_to.active_element.get_attribute("name") == "rooms[2].room"
    browser.switch_to.active_element.send_keys("仓库")
    cells[2].send_keys("12.5")
    wait(browser, lambda d: total.get_attribute("value") == "32.5")

    Select(browser.find_element(By.ID, "id_scope")).select_by_value("food") \
        if browser.find_elements(By.CSS_SELECTOR, "select#id_scope") else \
        browser.find_element(By.CSS_SELECTOR, "input[name='scope'][value='food']").click()

    # The signature pad produces a PNG data URL.
    pad = by_testid(browser, "signature-pad")
    ActionChains(browser).move_to_element_with_offset(pad, -100, 0).click_and_hold() \
        .move_by_offset(60, 20).move_by_offset(60, -30).release().perform()
    png = browser.find_element(By.NAME, "signature__signature_png")
    wait(browser, lambda d: png.get_attribute("value").startswith("data:image/png;base64,"))

    pairs = browser.execute_script(
        "return [...new FormData(document.getElementById('render-form')).entries()]"
        ".filter(([k, v]) => typeof v === 'string');")
    post = QueryDict(mutable=True)
    for name, value in pairs:
        post.appendlist(name, value)
    parsed = forms.parse_post(definition, post)
    assert parsed["kind"] == "family"
    assert parsed["rooms"] == [{"room": "前厅", "area": "20"}, {"room": "仓库", "area": "12.5"}]
    assert parsed["scope"] == ["food"]
    files = forms.incoming_files(definition, post, None)
    assert files["signature"][0][1].startswith(b"\x89PNG")
    cleaned = forms.validate_submission(definition, parsed, partial=True)
    assert cleaned["total_area"] == 32.5


# A stand-in for /api/v1/regions (the page is a file: no server to ask).
FAKE_REGIONS = """
const tree = {
  "": [{code: "330000000000", name: "示例省", level_label: "省", child_count: 1}],
  "339900000000": [{code: "339901000000", name: "东城区", level_label: "区县", child_count: 1},
                   {code: "339902000000", name: "西城区", level_label: "区县", child_count: 0}],
  "339901000000": [{code: "339901001000", name: "东湖街道", level_label: "街道", child_count: 0}],
};
const detail = {"339901001000": {code: "339901001000", child_count: 0, ancestors: [
  {code: "330000000000"}, {code: "339900000000"}, {code: "339901000000"}]},
  "339900000000": {code: "339900000000", bbox: [120.0, 30.0, 120.2, 30.2]}};
const square = (x0, y0, x1, y1) => ({type: "Polygon",
  coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]});
const outline = {type: "FeatureCollection", features: [
  {type: "Feature", id: "339901000000", properties: {name: "东城区"},
   geometry: square(120.0, 30.0, 120.1, 30.2)},
  {type: "Feature", id: "339902000000", properties: {name: "西城区"},
   geometry: square(120.1, 30.0, 120.2, 30.2)}]};
window.fetch = async (url) => {
  const u = new URL(url, "http://x");
  const parts = u.pathname.split("/");
  const code = parts.pop();
  const parent = u.searchParams.get("parent") || "";
  const body = u.pathname.endsWith("/regions") ? {items: tree[parent] || []}
    : code === "geojson" ? outline : detail[code];
  return {ok: !!body, status: body ? 200 : 404, json: async () => body};
};
"""


def test_region_picker_cascades_within_the_city(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    definition = forms.check_definition(testing.sample_definition())
    browser.get(write_page(tmp_path, page_html(render=True, definition=definition,
                                               head_script=FAKE_REGIONS)).as_uri())
    district = wait(browser, lambda d: by_testid(d, "premises-region-0"))
    code = browser.find_element(By.NAME, "premises.region")
    assert code.get_attribute("type") == "hidden"
    assert not browser.find_element(By.CSS_SELECTOR,
                                    "label[for='id_premises__region']").is_displayed()
    label = browser.find_element(By.CSS_SELECTOR, "label[for='id_premises__region__level0']")
    assert label.text == "经营场所 · 区县"
    Select(district).select_by_value("339901000000")
    street = wait(browser, lambda d: by_testid(d, "premises-region-1"))
    assert code.get_attribute("value") == "339901000000"
    Select(street).select_by_value("339901001000")
    assert code.get_attribute("value") == "339901001000"
    Select(district).select_by_value("339902000000")     # a district without streets
    assert code.get_attribute("value") == "339902000000"
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid='premises-region-1']")

    # An address already chosen comes back as its chain of selects.
    data = {"premises": {"region": "339901001000", "detail": "湖滨路 1 号"}}
    browser.get(write_page(tmp_path, page_html(render=True, definition=definition, data=data,
                                               head_script=FAKE_REGIONS), "again.html").as_uri())
    street = wait(browser, lambda d: by_testid(d, "premises-region-1"))
    assert Select(street).first_selected_option.text == "东湖街道"
    assert Select(by_testid(browser, "premises-region-0")).first_selected_option.text == "东城区"


def test_map_point_by_clicking_the_outline(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    definition = forms.check_definition(testing.sample_definition())
    browser.get(write_page(tmp_path, page_html(render=True, definition=definition,
                                               head_script=FAKE_REGIONS)).as_uri())
    svg = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR,
                                                 "[data-testid='location-map'] svg"))
    assert len(svg.find_elements(By.CSS_SELECTOR, "path")) == 2
    ActionChains(browser).move_to_element(svg).click().perform()     # the middle
    lng = float(by_testid(browser, "location-lng").get_attribute("value"))
    lat = float(by_testid(browser, "location-lat").get_attribute("value"))
    assert abs(lng - 120.1) < 0.01 and abs(lat - 30.1) < 0.01


PARITY_RULES: list[tuple[Any, Any]] = [
    ({"==": [{"var": "a"}, "1"]}, {"a": 1}),
    ({"===": [{"var": "a"}, 1]}, {"a": 1}),
    ({"!=": [{"var": "kind"}, "family"]}, {"kind": "person"}),
    ({"and": [{">": [{"var": "n"}, 3]}, {"<": [{"var": "n"}, 10]}]}, {"n": 5}),
    ({"<": [1, {"var": "n"}, 10]}, {"n": 10}),
    ({"<=": [1, {"var": "n"}, 10]}, {"n": 10}),
    ({"or": [{"var": "missing_key"}, "fallback"]}, {}),
    ({"if": [{">=": [{"var": "age"}, 18]}, "adult", {"<": [{"var": "age"}, 6]}, "child",
             "minor"]}, {"age": 12}),
    ({"+": [{"var": "a"}, {"var": "b"}, "2"]}, {"a": 1, "b": 2.5}),
    ({"*": [{"var": "qty"}, {"var": "rate"}]}, {"qty": "4", "rate": 2}),
    ({"-": [10, 4]}, {}), ({"-": [{"var": "a"}]}, {"a": 3}),
    ({"/": [9, 3]}, {}), ({"/": [1, 0]}, {}), ({"%": [7, 3]}, {}),
    ({"min": [3, {"var": "a"}, 9]}, {"a": 1}), ({"max": [3, {"var": "a"}, 9]}, {"a": 1}),
    ({"in": ["retail", {"var": "scope"}]}, {"scope": ["retail", "food"]}),
    ({"in": ["湖", {"var": "addr"}]}, {"addr": "西湖区"}),
    ({"cat": ["编号", {"var": "n"}]}, {"n": 7}),
    ({"substr": ["330106199001011234", 6, 8]}, {}), ({"substr": ["abcdef", -2]}, {}),
    ({"merge": [[1, 2], 3, [4]]}, {}),
    ({"missing": ["a", "b", "c"]}, {"a": 1, "c": ""}),
    ({"missing_some": [1, ["a", "b"]]}, {"b": 2}),
    ({"!": [{"var": "flag"}]}, {"flag": []}), ({"!!": [{"var": "list"}]}, {"list": [0]}),
    ({"var": "premises.region"}, {"premises": {"region": "339901001000"}}),
    ({"var": ["nope", 42]}, {}), ({"var": "rows.1.area"}, {"rows": [{"area": 1}, {"area": 2}]}),
    ({"reduce": [{"var": "rooms"}, {"+": [{"var": "accumulator"}, {"var": "current.area"}]},
                 0]}, {"rooms": [{"area": 20}, {"area": 12.5}]}),
    ({"map": [{"var": "rows"}, {"*": [{"var": "q"}, 2]}]}, {"rows": [{"q": 1}, {"q": 3}]}),
    ({"filter": [{"var": "ns"}, {">": [{"var": ""}, 2]}]}, {"ns": [1, 2, 3, 4]}),
    ({"all": [{"var": "ns"}, {">": [{"var": ""}, 0]}]}, {"ns": [1, 2]}),
    ({"all": [{"var": "ns"}, {">": [{"var": ""}, 0]}]}, {"ns": []}),
    ({"some": [{"var": "ns"}, {"==": [{"var": ""}, 2]}]}, {"ns": [1, 2]}),
    ({"none": [{"var": "ns"}, {"==": [{"var": ""}, 2]}]}, {"ns": [1, 3]}),
    ({">": [{"var": "start"}, "2026-01-01"]}, {"start": "2026-03-01"}),
    # Empty fields, blank strings and negative remainders (review 2026-11-27 session 2, M12).
    ({"==": [{"var": "n"}, 0]}, {}), ({"!=": [{"var": "n"}, 0]}, {}),
    ({"==": [{"var": "n"}, 0]}, {"n": None}), ({"==": [0, ""]}, {}), ({"==": ["", False]}, {}),
    ({"==": [None, None]}, {}), ({"==": ["1", True]}, {}), ({"!=": [" 2 ", 2]}, {}),
    ({"%": [-7, 3]}, {}), ({"%": [7, -3]}, {}), ({"%": [-7.5, 2]}, {}),
    # The bounds of one evaluation (review 2026-11-27 session 2, M3), on both sides of each.
    *[({"reduce": [{"merge": [1] * n}, {"cat": [{"var": "accumulator"},
                                                {"var": "accumulator"}]}, start]}, {})
      for n in (14, 15) for start in ("x", "😀")],
    *[({"merge": [{"var": "a"}, {"var": "a"}]}, {"a": list(range(n))}) for n in (500, 501)],
    *[({"map": [{"var": "a"}, {"var": ""}]}, {"a": list(range(n))}) for n in (1000, 1001)],
    *[({"reduce": [{"var": "rows"}, {"+": [{"var": "accumulator"},
                                           {"+": [{"var": "current"}] * 240}]}, 0]},
       {"rows": list(range(n))}) for n in (333, 500)],
]


def test_the_browser_evaluator_agrees_with_the_server(browser: Any, tmp_path: Path) -> None:
    definition = forms.check_definition(testing.sample_definition())
    browser.get(write_page(tmp_path, page_html(render=True, definition=definition)).as_uri())
    wait(browser, lambda d: d.execute_script("return !!window.YiwangLogic"))
    results = browser.execute_script(
        "return arguments[0].map(([r, d]) => window.YiwangLogic.evaluate(r, d));",
        [[rule, data] for rule, data in PARITY_RULES])
    for (rule, data), in_browser in zip(PARITY_RULES, results, strict=True):
        on_server = forms.evaluate(rule, data)
        if isinstance(on_server, float) and on_server.is_integer():
            on_server = int(on_server)
        assert in_browser == on_server, (rule, data)
    # Operators outside the allow-list give no value in the browser too.
    assert browser.execute_script("return window.YiwangLogic.evaluate({log: 1}, {})") is None
