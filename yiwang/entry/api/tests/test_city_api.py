"""The internal city API as an inspector's app and a department's system use it: a patrol
report with a photo, the department's list, handling with a photo, verification on site, a
stale version told plainly; nobody reads or acts on a case that is not theirs."""

from __future__ import annotations

import io
from typing import Any

import pytest

from yiwang.industry.city import service as city
from yiwang.industry.city.testing import NEAR, PLACE, jpeg, make_city, official
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/city"


@pytest.fixture
def people() -> dict[str, Any]:
    return make_city()


def _jpeg() -> io.BytesIO:
    return jpeg("site.jpg")

def _photo(client: Any) -> str:
    response = client.post(f"{URL}/photos", {"file": _jpeg()})
    assert response.status_code == 201, response.content
    return response.json()["token"]


def _act(client: Any, number: str, action: str, version: int, **body: Any) -> Any:
    return client.post(f"{URL}/cases/{number}/actions/{action}",
                       {"expected_version": version, **body}, content_type="application/json")


def test_an_inspector_reports_and_the_department_handles_through_the_api(
        internal_client: Any, people: Any) -> None:
    sign_in_client(internal_client, people["inspector"])
    reported = internal_client.post(f"{URL}/cases", {
        "category_code": "city.e.street_order.vending", "title": "巡查发现占道经营",
        "lon": PLACE[0], "lat": PLACE[1], "address": "湖畔路 1 号",
        "photos": [_photo(internal_client)]}, content_type="application/json")
    assert reported.status_code == 201, reported.content
    number = reported.json()["number"]
    assert reported.json()["state"] == "dispatched"  # an inspector's report: filed at once

    sign_in_client(internal_client, people["handler"])
    listing = internal_client.get(f"{URL}/cases", {"view": "mine"}).json()
    assert [c["number"] for c in listing["items"]] == [number] and listing["count"] == 1
    case = internal_client.get(f"{URL}/cases/{number}").json()
    assert case["department_code"] == "cgj" and "accept" in case["actions"]
    assert [e["action"] for e in case["events"]][:1] == ["report"]
    assert case["events"][0]["photos"][0].startswith(f"/city/cases/{number}/photos/")
    accepted = _act(internal_client, number, "accept", case["row_version"])
    assert accepted.status_code == 200 and accepted.json()["state"] == "handling"
    stale = _act(internal_client, number, "handle", case["row_version"], note="已劝离")
    assert stale.status_code == 409 and "已被他人处理" in stale.json()["detail"]
    version = accepted.json()["row_version"]
    no_photo = _act(internal_client, number, "handle", version, note="已劝离")
    assert no_photo.status_code == 400 and "photos" in no_photo.json()["errors"]
    handled = _act(internal_client, number, "handle", version, note="已劝离",
                   photos=[_photo(internal_client)])
    assert handled.status_code == 200 and handled.json()["outcome"] == "已劝离"

    sign_in_client(internal_client, people["inspector"])
    closed = _act(internal_client, number, "verify_pass", handled.json()["row_version"],
                  photos=[_photo(internal_client)], lon=NEAR[0], lat=NEAR[1])
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert city.Case.objects.get(number=number).closed_at is not None


def test_nobody_reads_or_acts_on_a_case_that_is_not_theirs(internal_client: Any,
                                                           people: Any) -> None:
    case = city.report(source="citizen", category_code="city.e.street_order.vending",
                       title="摆摊", lon=PLACE[0], lat=PLACE[1], reporter=people["citizen"]).case
    case = city.transition(case, "file", actor=people["dispatcher"])
    sign_in_client(internal_client, people["water"])  # the water bureau: not its case
    assert internal_client.get(f"{URL}/cases/{case.number}").status_code == 404
    assert internal_client.get(f"{URL}/cases", {"view": "all"}).json()["count"] == 0
    refused = _act(internal_client, case.number, "accept", case.row_version)
    assert refused.status_code == 404
    # someone who sees it but may not do this: told so, and nothing changes
    sign_in_client(internal_client, people["handler"])
    forbidden = _act(internal_client, case.number, "file", case.row_version)
    assert forbidden.status_code == 400 and forbidden.json()["code"] == "bad_state"
    verify = _act(internal_client, case.number, "verify_pass", case.row_version)
    assert verify.status_code == 400  # not handled yet
    unknown = _act(internal_client, case.number, "delete", case.row_version)
    assert unknown.status_code == 400 and unknown.json()["code"] == "bad_action"
    case.refresh_from_db()
    assert case.state == "dispatched"
    # a clerk is neither an inspector nor an operator: no reports here
    report = internal_client.post(f"{URL}/cases", {
        "category_code": "city.e.street_order.vending", "title": "x", "lon": PLACE[0],
        "lat": PLACE[1]}, content_type="application/json")
    assert report.status_code == 403 and "话务员" in report.json()["detail"]
    # a citizen's session is not an official's: the internal API refuses it
    sign_in_client(internal_client, people["citizen"])
    assert internal_client.get(f"{URL}/cases").status_code == 401


def test_bad_reports_and_photos_get_reasons(internal_client: Any, people: Any) -> None:
    operator = official("hotline.op", "szcg", "city.take_calls")
    sign_in_client(internal_client, operator)
    outside = internal_client.post(f"{URL}/cases", {
        "category_code": "city.e.street_order.vending", "title": "来电", "lon": 121.9,
        "lat": 30.0, "caller_phone": "13800138000"}, content_type="application/json")
    assert outside.status_code == 400 and outside.json()["errors"]
    not_image = internal_client.post(f"{URL}/photos",
                                     {"file": io.BytesIO(b"%PDF-1.4 not a photo")})
    assert not_image.status_code == 400 and not_image.json()["detail"]
    before = city.Case.objects.count()
    someone_elses = internal_client.post(f"{URL}/cases", {
        "category_code": "city.e.street_order.vending", "title": "来电", "lon": PLACE[0],
        "lat": PLACE[1], "photos": ["not-a-token"]}, content_type="application/json")
    assert someone_elses.status_code == 400
    assert city.Case.objects.count() == before  # nothing half-saved
    call = internal_client.post(f"{URL}/cases", {
        "category_code": "city.e.street_order.vending", "title": "来电反映摆摊",
        "lon": PLACE[0], "lat": PLACE[1], "caller_name": "王五",
        "caller_phone": "13800138000"}, content_type="application/json")
    assert call.status_code == 201 and call.json()["state"] == "reported"
    detail = internal_client.get(f"{URL}/cases/{call.json()['number']}").content.decode()
    assert "13800138000" not in detail and "王五" not in detail
