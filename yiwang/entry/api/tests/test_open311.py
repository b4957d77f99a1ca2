"""Open311 GeoReport v2 as third-party clients use it: the georeport package from PyPI over
real HTTP, and plain HTTP for everything else (JSON and XML, the standard error lists)."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from xml.etree import ElementTree  # our own responses, in a test

import pytest

from yiwang.industry.city import service as city
from yiwang.industry.city.testing import PLACE, jpeg, make_city

BASE = "/open311/v2"


@pytest.fixture
def people(db: Any) -> dict[str, Any]:
    return make_city()


@pytest.fixture
def api_key(people: dict[str, Any]) -> str:
    _client, key = city.register_open311_client("示例市民App", contact="app@example.org")
    return key


def _create(client: Any, key: str, **extra: Any) -> Any:
    data = {"api_key": key, "service_code": "city.e.emergency.waterlogging",
            "lat": PLACE[1], "long": PLACE[0], "description": "地下通道积水很深",
            "attribute[depth_cm]": "35", "first_name": "三", "last_name": "张",
            "phone": "13800138000", **extra}
    return client.post(f"{BASE}/requests.json", {k: v for k, v in data.items()
                                                 if v is not None})


def test_services_and_definitions_in_json_and_xml(client: Any, people: Any) -> None:
    services = client.get(f"{BASE}/services.json").json()
    vending = next(s for s in services if s["service_code"] == "city.e.street_order.vending")
    assert vending["service_name"] == "占道经营" and vending["group"] == "街面秩序"
    assert vending["metadata"] is True and vending["type"] == "realtime"
    english = client.get(f"{BASE}/services.json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert "Street vending" in [s["service_name"] for s in english]
    xml = ElementTree.fromstring(client.get(f"{BASE}/services.xml").content)  # noqa: S314
    assert xml.tag == "services" and len(xml.findall("service")) == len(services)
    definition = client.get(f"{BASE}/services/city.e.emergency.waterlogging.json").json()
    depth = definition["attributes"][0]
    assert (depth["code"], depth["datatype"], depth["required"]) == ("depth_cm", "number", True)
    missing = client.get(f"{BASE}/services/no.such.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404


def _jpeg() -> io.BytesIO:
    return jpeg("water.jpg")

def test_creating_a_request_opens_a_case(client: Any, api_key: str) -> None:
    response = _create(client, api_key, media=_jpeg())
    assert response.status_code == 201, response.content
    created = response.json()[0]
    case = city.Case.objects.get(number=created["service_request_id"])
    assert case.source == "open311" and case.attributes == {"depth_cm": 35.0}
    assert len(case.events.get(action="report").photos) == 1
    assert case.reporter_name == "张 三" and case.reporter_phone == "13800138000"
    listed = client.get(f"{BASE}/requests/{case.number}.json").json()[0]
    assert listed["status"] == "open" and listed["service_code"] == case.category.code
    assert "13800138000" not in str(listed) and "张" not in str(listed)
    token = client.get(f"{BASE}/tokens/{case.number}.json").json()[0]
    assert token["service_request_id"] == case.number


def test_a_request_missing_required_attributes_gets_the_standard_error_list(
        client: Any, api_key: str) -> None:
    response = _create(client, api_key, **{"attribute[depth_cm]": None,
                                            "attribute[vehicles_stranded]": "maybe",
                                            "attribute[colour]": "red"})
    assert response.status_code == 400
    errors = response.json()
    assert all(e["code"] == 400 for e in errors) and len(errors) == 3
    text = " ".join(e["description"] for e in errors)
    assert "attribute[depth_cm]" in text and "attribute[colour]" in text
    assert "attribute[vehicles_stranded]" in text
    xml = client.post(f"{BASE}/requests.xml", {"api_key": api_key,
                                               "service_code": "city.e.emergency.waterlogging"})
    root = ElementTree.fromstring(xml.content)  # noqa: S314
    assert xml.status_code == 400 and root.tag == "errors"
    assert root.find("error/code").text == "400"
    assert not city.Case.objects.exists()


def test_bad_keys_places_and_photos_are_refused(client: Any, api_key: str) -> None:
    assert _create(client, "yw311_forged").status_code == 403
    outside = _create(client, api_key, lat=31.2, long=121.9)
    assert outside.status_code == 400 and "网格" in outside.json()[0]["description"]
    no_place = _create(client, api_key, lat=None, long=None, address_string="人民路1号")
    assert no_place.status_code == 400 and "lat" in no_place.json()[0]["description"]
    fake = io.BytesIO(b"MZ\x90\x00 not an image")
    fake.name = "photo.jpg"
    bad_photo = _create(client, api_key, media=fake)
    assert bad_photo.status_code == 400 and bad_photo.json()[0]["description"].startswith(
        "media")
    assert not city.Case.objects.exists()


def test_request_filters(client: Any, api_key: str) -> None:
    first = _create(client, api_key).json()[0]["service_request_id"]
    other = _create(client, api_key, service_code="city.e.street_order.vending",
                    **{"attribute[depth_cm]": None}, lat=PLACE[1] + 0.01).json()[0]
    assert other["service_notice"] == ""
    by_code = client.get(f"{BASE}/requests.json",
                         {"service_code": "city.e.street_order.vending"}).json()
    assert [r["service_request_id"] for r in by_code] == [other["service_request_id"]]
    closed = client.get(f"{BASE}/requests.json", {"status": "closed"}).json()
    assert closed == []
    both = client.get(f"{BASE}/requests.json", {"service_request_id": f"{first},nope"}).json()
    assert [r["service_request_id"] for r in both] == [first]
    bad = client.get(f"{BASE}/requests.json", {"start_date": "last week"})
    assert bad.status_code == 400


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class _ThreadedServer(WSGIServer):
    daemon_threads = True


@pytest.fixture
def live(transactional_db: Any) -> Iterator[str]:
    """The public zone on a real port, served from this process's test database."""
    from django.core.wsgi import get_wsgi_application

    server = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=_ThreadedServer,
                         handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}{BASE}"
    server.shutdown()
    server.server_close()


def test_the_georeport_client_lists_services_and_reads_requests(live: str) -> None:
    from georeport import GeoReport

    make_city()
    _c, key = city.register_open311_client("georeport")
    import requests

    created = requests.post(f"{live}/requests.json", data={
        "api_key": key, "service_code": "city.e.street_order.vending", "lat": PLACE[1],
        "long": PLACE[0], "description": "路口有流动摊贩"}, timeout=10)
    assert created.status_code == 201, created.text
    number = created.json()[0]["service_request_id"]
    for fmt in ("json", "xml"):
        client = GeoReport(live, output_format=fmt)
        codes = [s["service_code"] for s in client.get_service_list()]
        assert "city.e.street_order.vending" in codes
        definition = client.get_service_definition("city.e.street_order.vending")
        assert "attributes" in definition
        found = client.get_service_requests(service_request_id=number)
        found = found if isinstance(found, list) else [found]
        assert found[0]["service_request_id"] == number
        assert found[0]["status"] == "open"
