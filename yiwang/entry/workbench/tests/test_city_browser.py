"""The city pages in headless Chromium, served in process (both zones on real ports): the
cockpit draws its tiles, map and charts from the API under the site's CSP, and a citizen
picks the place of a report by clicking the map. Screenshots go to var/artifacts/e2e/city/."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.conf import settings
from django.test import Client

from yiwang.industry.city import service as city
from yiwang.industry.city.testing import PLACE, make_city, official, photo
from yiwang.platform.perception import service as perception
from yiwang.platform.perception.testing import make_device, now_ms
from yiwang.platform.zones.service import Zone, session_cookie_name
from yiwang.support.identity.testing import sign_in_client

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = Path(os.environ.get("YIWANG_E2E_ARTIFACTS") or
                 Path(__file__).resolve().parents[4] / "var" / "artifacts" / "e2e") / "city"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class _Threaded(WSGIServer):
    daemon_threads = True


def _serve(port: int = 0) -> tuple[WSGIServer, str]:
    from django.core.wsgi import get_wsgi_application

    server = make_server("127.0.0.1", port, get_wsgi_application(), server_class=_Threaded,
                         handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def sites(settings: Any) -> Iterator[dict[str, str]]:
    public, public_url = _serve()
    internal, internal_url = _serve()
    settings.YIWANG_INTERNAL_PORT = internal.server_port
    settings.YIWANG_PUBLIC_PORT = public.server_port
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    yield {"public": public_url, "internal": internal_url}
    for server in (public, internal):
        server.shutdown()
        server.server_close()


@pytest.fixture
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
    profile = tempfile.mkdtemp(prefix="yiwang-city-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--window-size=1400,1100",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _sign_in(driver: Any, base: str, user: Any, zone: Zone, port: int) -> None:
    client = Client(SERVER_PORT=port)
    sign_in_client(client, user)
    driver.get(f"{base}/healthz")
    driver.add_cookie({"name": session_cookie_name(zone), "value": client.session.session_key,
                       "path": "/"})


def _wait(driver: Any, condition: Any, timeout: float = 15) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _no_csp_errors(driver: Any) -> None:
    logs = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not [m for m in logs if "Content Security Policy" in m or "Uncaught" in m], logs


def test_the_cockpit_draws_its_map_and_charts(sites: Any, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    people = make_city()
    leader = official("city.leader", "szcg", "city.view_cockpit")
    citizen = people["citizen"]
    for i in range(3):
        case = city.report(source="citizen", category_code="city.e.street_order.vending",
                           title=f"摆摊{i}", lon=PLACE[0] + i * 0.01, lat=PLACE[1],
                           reporter=citizen, photos=[photo(citizen)]).case
        city.transition(case, "file", actor=people["dispatcher"])
    make_device("WL-001")
    perception.create_rule("积水", kind="threshold", metric="level", type_code="water_level",
                           value=5.0, severity="critical")
    perception.ingest_readings([{"device": "WL-001", "ts": now_ms() - 1000,
                                 "values": {"level": 7}}])
    internal_port = settings.YIWANG_INTERNAL_PORT
    _sign_in(browser, sites["internal"], leader, Zone.INTERNAL, internal_port)
    browser.get(f"{sites['internal']}/cockpit/?region=339900000000")
    _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-kpi=filed]").text == "3")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#chart-trend canvas"))
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#cockpit-map path.cockpit-area"))
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#cockpit-map path.cockpit-alarm"))
    assert browser.find_element(By.CSS_SELECTOR, "[data-alarm=critical]").text == "1"
    rows = browser.find_elements(By.CSS_SELECTOR, "[data-field=areas] tr")
    assert len(rows) == 1 and "东城区" in rows[0].text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    time.sleep(0.6)  # the charts' short animation
    browser.save_screenshot(str(ARTIFACTS / "cockpit-city.png"))
    browser.execute_script("document.getElementById('h-major').scrollIntoView()")
    browser.save_screenshot(str(ARTIFACTS / "cockpit-city-charts.png"))
    # drill down by clicking the district on the map
    browser.find_element(By.CSS_SELECTOR, "#cockpit-map path.cockpit-area").click()
    _wait(browser, lambda d: "region=339901000000" in d.current_url)
    _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-field=region-name]").text
          == "东城区")
    _no_csp_errors(browser)


def test_a_citizen_picks_the_place_on_the_map(sites: Any, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    people = make_city()
    _sign_in(browser, sites["public"], people["citizen"], Zone.PUBLIC,
             settings.YIWANG_PUBLIC_PORT)
    browser.get(f"{sites['public']}/reports/new/")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".pick-map path.leaflet-interactive"))
    browser.find_element(By.CSS_SELECTOR, "[data-testid=pick-map]").click()
    lon = _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[data-testid=lon]")
                .get_attribute("value"))
    lat = browser.find_element(By.CSS_SELECTOR, "[data-testid=lat]").get_attribute("value")
    assert 119.9 < float(lon) < 120.1 and 29.9 < float(lat) < 30.1
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.CSS_SELECTOR, "[data-testid=category]")).select_by_value(
        "city.e.street_order.vending")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=title]").send_keys("人行道摆摊")
    image = ARTIFACTS / "upload.jpg"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    from PIL import Image

    Image.new("RGB", (64, 48), (180, 60, 20)).save(image, "JPEG")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=photos]").send_keys(str(image))
    browser.save_screenshot(str(ARTIFACTS / "report-form.png"))
    browser.find_element(By.CSS_SELECTOR, "[data-testid=submit-report]").click()
    number = _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR,
                                                     "[data-testid=report-number]").text)
    case = city.Case.objects.get(number=number)
    assert case.grid_code.startswith("339901001001") and case.title == "人行道摆摊"
    browser.save_screenshot(str(ARTIFACTS / "report-received.png"))
    _no_csp_errors(browser)
