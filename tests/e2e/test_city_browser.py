"""一网统管 end to end on the demo server, in headless Chromium: a citizen reports street
vending with a photo and a point picked on the map; the command centre's dispatcher files it
(it is dispatched to 城管局 at once); a clerk of 城管局 accepts it and reports it handled with a
photo; a grid inspector verifies it on site; the citizen sees it closed; and the leader's
cockpit counts one more closed case. Screenshots of each step: var/artifacts/e2e/city/.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.e2e.conftest import ROOT, Server, chromium
from tests.e2e.identity_steps import sign_in_official, wait_for
from tests.e2e.trust_steps import sign_in_citizen

pytestmark = pytest.mark.e2e
CITIZEN = "citizen4"
DISPATCHER = "cgj.dispatcher1"
CLERK = "cgj.clerk1"
INSPECTOR = "cgj.grid_inspector1"
LEADER = "cgj.head1"


def _artifacts() -> Path:
    folder = Path(os.environ.get("YIWANG_E2E_ARTIFACTS") or ROOT / "var" / "artifacts" / "e2e"
                  ) / "city"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shot(browser: Any, name: str) -> None:
    browser.save_screenshot(str(_artifacts() / f"{name}.png"))


def _photo(name: str) -> str:
    from PIL import Image, ImageDraw

    path = _artifacts() / f"{name}.jpg"
    picture = Image.new("RGB", (320, 240), (150, 155, 160))
    ImageDraw.Draw(picture).rectangle((100, 100, 200, 170), fill=(200, 60, 30))
    picture.save(path, "JPEG")
    return str(path)


def _testid(browser: Any, name: str) -> Any:
    return browser.find_element(By.CSS_SELECTOR, f"[data-testid='{name}']")


def _kpi(browser: Any, server: Server, name: str) -> int:
    browser.get(f"{server.internal}/cockpit/")
    wait_for(lambda: browser.find_element(By.CSS_SELECTOR, f"[data-kpi={name}]").text
             not in ("", "—"), "the cockpit's figures")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#chart-trend canvas"),
             "the trend chart")
    return int(browser.find_element(By.CSS_SELECTOR, f"[data-kpi={name}]").text)


def _act(browser: Any, action: str, *, note: str = "", photo: str = "") -> None:
    form = wait_for(lambda: _testid(browser, f"action-{action}"), f"the {action} form")
    if photo:
        form.find_element(By.NAME, "photos").send_keys(photo)
    if note:
        form.find_element(By.NAME, "note").send_keys(note)
    form.find_element(By.CSS_SELECTOR, f"[data-testid='do-{action}']").click()


def test_report_dispatch_handle_verify_and_the_cockpit(server: Server) -> None:
    with chromium() as leader, chromium() as citizen, chromium() as official, \
            chromium() as clerk, chromium() as inspector:
        sign_in_official(server, leader, LEADER, start="/cockpit/")
        closed_before = _kpi(leader, server, "closed")

        # a citizen reports street vending with a photo and a point on the map
        sign_in_citizen(server, citizen, CITIZEN, next_url="/reports/new/")
        citizen.get(f"{server.public}/reports/new/")
        wait_for(lambda: citizen.find_elements(By.CSS_SELECTOR,
                                               ".pick-map path.leaflet-interactive"),
                 "the grids on the map")
        Select(_testid(citizen, "category")).select_by_value("city.e.street_order.vending")
        _testid(citizen, "title").send_keys("人行道上有流动摊贩")
        _testid(citizen, "photos").send_keys(_photo("stall"))
        _testid(citizen, "pick-map").click()
        wait_for(lambda: _testid(citizen, "lon").get_attribute("value"), "the picked place")
        _shot(citizen, "1-citizen-reports")
        _testid(citizen, "submit-report").click()
        number = wait_for(lambda: _testid(citizen, "report-number").text, "the report's number")
        assert re.fullmatch(r"\d{19}", number)
        _shot(citizen, "2-citizen-receipt")

        # the command centre files it: dispatched at once to 城管局
        sign_in_official(server, official, DISPATCHER, start=f"/city/cases/{number}/")
        official.get(f"{server.internal}/city/cases/{number}/")
        _act(official, "file")
        wait_for(lambda: "已派遣" in _testid(official, "case-state").text, "dispatched")
        assert "城管局" in _testid(official, "case-department").text
        _shot(official, "3-dispatched")

        # a clerk of 城管局 accepts it and reports it handled with a photo
        sign_in_official(server, clerk, CLERK, start=f"/city/cases/{number}/")
        clerk.get(f"{server.internal}/city/cases/{number}/")
        _act(clerk, "accept")
        wait_for(lambda: "处置中" in _testid(clerk, "case-state").text, "handling")
        _act(clerk, "handle", note="已劝离摊贩，人行道恢复通行", photo=_photo("handled"))
        wait_for(lambda: "已处置" in _testid(clerk, "case-state").text, "handled")
        _shot(clerk, "4-handled")

        # a grid inspector verifies it on site (the place of the case, within 100 m)
        sign_in_official(server, inspector, INSPECTOR, start=f"/city/cases/{number}/")
        inspector.get(f"{server.internal}/city/cases/{number}/")
        place = inspector.find_element(By.ID, "case-map")
        form = wait_for(lambda: _testid(inspector, "action-verify_pass"), "the verify form")
        form.find_element(By.NAME, "lon").send_keys(place.get_attribute("data-lon"))
        form.find_element(By.NAME, "lat").send_keys(place.get_attribute("data-lat"))
        _act(inspector, "verify_pass", photo=_photo("verified"))
        wait_for(lambda: "已结案" in _testid(inspector, "case-state").text, "closed")
        _shot(inspector, "5-verified-closed")

        # the citizen sees it closed, with the result
        citizen.get(f"{server.public}/reports/{number}/")
        wait_for(lambda: "已结案" in _testid(citizen, "report-state").text,
                 "closed, for the citizen")
        assert "已劝离摊贩" in citizen.page_source
        _shot(citizen, "6-citizen-sees-closed")

        # and the cockpit counts it
        assert _kpi(leader, server, "closed") == closed_before + 1
        wait_for(lambda: leader.find_elements(By.CSS_SELECTOR, "#cockpit-map path.cockpit-area"),
                 "the cockpit's map")
        _shot(leader, "7-cockpit")


DEVICE_ADMIN = "slj.head1"


def _images_loaded(browser: Any, selector: str) -> int:
    return int(browser.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;", selector))


def test_video_review_cameras_and_device_charts(server: Server) -> None:
    """The command centre confirms what video inspection was unsure of (a case is opened),
    looks at the cameras' latest stills; the water bureau reads a gauge's chart and its
    alarms."""
    with chromium() as official, chromium() as water:
        sign_in_official(server, official, DISPATCHER, start="/iot/detections/")
        official.get(f"{server.internal}/iot/detections/")
        card = wait_for(lambda: _testid(official, "detection"), "a detection to review")
        wait_for(lambda: _images_loaded(official, ".detection img") >= 1, "its snapshot")
        _shot(official, "07-detection-review")
        card.find_element(By.CSS_SELECTOR, "[data-testid='confirm']").click()
        message = wait_for(lambda: _testid(official, "message").text, "the confirmation")
        number = re.search(r"\d{19}", message)
        assert number, message
        official.get(f"{server.internal}/city/cases/{number.group(0)}/")
        wait_for(lambda: _testid(official, "case-number").text == number.group(0), "the case")
        assert "视频智能识别" in _testid(official, "case-summary").text

        official.get(f"{server.internal}/iot/cameras/")
        wait_for(lambda: _images_loaded(official, ".camera-card img") == 3, "three stills")
        _shot(official, "08-cameras")

        sign_in_official(server, water, DEVICE_ADMIN, start="/iot/devices/")
        water.get(f"{server.internal}/iot/devices/?type=water_level")
        rows = wait_for(lambda: water.find_elements(By.CSS_SELECTOR,
                                                    "[data-testid='device-row'] a"),
                        "the water bureau's gauges")
        rows[0].click()
        wait_for(lambda: water.find_elements(By.CSS_SELECTOR,
                                             "[data-testid='chart-level'] canvas"),
                 "the chart of the water level")
        assert "min" in water.find_element(By.CSS_SELECTOR, "[data-summary='level']").text
        _shot(water, "09-device")
        water.get(f"{server.internal}/iot/alarms/?state=all")
        assert wait_for(lambda: water.find_elements(By.CSS_SELECTOR,
                                                    "[data-testid='alarm-row']"),
                        "the water bureau's alarms")
        _shot(water, "10-alarms")
