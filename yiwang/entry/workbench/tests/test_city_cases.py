"""The case pages of the workbench as officials use them: the command centre files, the
department handles with a photo, the inspector verifies on site; nobody sees a case that
is not theirs; a stale page is told plainly."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from yiwang.industry.city import service as city
from yiwang.industry.city.testing import NEAR, PLACE, jpeg, make_city, photo
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> dict[str, Any]:
    return make_city()


@pytest.fixture
def case(people: dict[str, Any]) -> Any:
    citizen = people["citizen"]
    return city.report(source="citizen", category_code="city.e.street_order.vending",
                       title="人行道上有人摆摊", lon=PLACE[0], lat=PLACE[1], reporter=citizen,
                       photos=[photo(citizen)]).case


def _jpeg(name: str = "site.jpg") -> io.BytesIO:
    return jpeg(name, colour=(10, 140, 60))

def _text(response: Any) -> str:
    return response.content.decode()


def test_the_case_goes_through_the_workbench(internal_client: Any, people: Any,
                                             case: Any) -> None:
    base = f"/city/cases/{case.number}/"
    sign_in_client(internal_client, people["dispatcher"])
    listing = _text(internal_client.get("/city/cases/"))
    assert case.number in listing
    page = _text(internal_client.get(base))
    assert 'data-testid="action-file"' in page and 'data-testid="action-not_file"' in page
    response = internal_client.post(f"{base}file/", {"expected_version": case.row_version})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "dispatched" and case.department_code == "cgj"

    sign_in_client(internal_client, people["handler"])
    mine = _text(internal_client.get("/city/cases/?view=mine"))
    assert case.number in mine
    page = _text(internal_client.get(base))
    assert 'data-testid="action-handle"' in page and "vendor/leaflet/leaflet.js" in page
    internal_client.post(f"{base}handle/", {"expected_version": case.row_version,
                                            "note": "已劝离", "photos": _jpeg()})
    case.refresh_from_db()
    assert case.state == "handled"
    handled_photo = case.events.get(action="handle").photos[0]
    image = internal_client.get(f"{base}photos/{handled_photo}")
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"

    sign_in_client(internal_client, people["inspector"])
    far = internal_client.post(f"{base}verify_pass/", {
        "expected_version": case.row_version, "lon": PLACE[0] + 0.01, "lat": PLACE[1],
        "photos": _jpeg()}, follow=True)
    assert "现场核查" in _text(far)
    internal_client.post(f"{base}verify_pass/", {
        "expected_version": case.row_version, "lon": NEAR[0], "lat": NEAR[1],
        "photos": _jpeg()})
    case.refresh_from_db()
    assert case.state == "closed"
    timeline = _text(internal_client.get(base))
    assert timeline.count("<li>") >= 5 and "核查通过" in timeline


def test_officials_of_other_departments_see_nothing(internal_client: Any, people: Any,
                                                    case: Any) -> None:
    city.transition(case, "file", actor=people["dispatcher"])
    sign_in_client(internal_client, people["water"])
    assert case.number not in _text(internal_client.get("/city/cases/?view=all"))
    assert internal_client.get(f"/city/cases/{case.number}/").status_code == 404
    token = case.events.get(action="report").photos[0]
    assert internal_client.get(f"/city/cases/{case.number}/photos/{token}").status_code == 404
    response = internal_client.post(f"/city/cases/{case.number}/accept/", {})
    assert response.status_code == 404


def test_a_stale_page_is_told_someone_else_acted(internal_client: Any, people: Any,
                                                 case: Any) -> None:
    sign_in_client(internal_client, people["dispatcher"])
    stale = case.row_version
    internal_client.post(f"/city/cases/{case.number}/file/", {"expected_version": stale})
    again = internal_client.post(f"/city/cases/{case.number}/not_file/",
                                 {"expected_version": stale, "note": "不属实"}, follow=True)
    assert "已被他人处理" in _text(again)
    case.refresh_from_db()
    assert case.state == "dispatched"


def test_the_empty_list_says_what_will_appear(internal_client: Any, people: Any) -> None:
    sign_in_client(internal_client, people["water"])
    page = _text(internal_client.get("/city/cases/"))
    assert 'data-testid="cases-empty"' in page
    assert re.search(r"派遣给您所在部门", page)


def test_an_inspector_reports_on_patrol_and_it_is_dispatched_at_once(
        internal_client: Any, people: Any) -> None:
    sign_in_client(internal_client, people["inspector"])
    assert 'data-testid="new-case"' in _text(internal_client.get("/city/cases/"))
    form = _text(internal_client.get("/city/report/"))
    assert "网格巡查上报" in form and 'capture="environment"' in form
    response = internal_client.post("/city/report/", {
        "category_code": "city.e.environment.litter", "title": "路口垃圾堆积",
        "lon": PLACE[0], "lat": PLACE[1], "photos": _jpeg()})
    assert response.status_code == 302
    case = city.Case.objects.get()
    assert case.source == "inspector" and case.state == "dispatched"
    assert case.department_code == "cgj" and len(case.events.get(action="report").photos) == 1


def test_a_hotline_operator_enters_a_call_for_the_command_centre(
        internal_client: Any, people: Any) -> None:
    from yiwang.industry.city.testing import official

    operator = official("hotline.one", "szcg", "city.take_calls")
    sign_in_client(internal_client, operator)
    assert "来电号码" in _text(internal_client.get("/city/report/"))
    bad = internal_client.post("/city/report/", {"category_code": "city.e.other.noise",
                                                 "title": "", "lon": PLACE[0],
                                                 "lat": PLACE[1]})
    assert bad.status_code == 400 and "标题" in _text(bad)
    internal_client.post("/city/report/", {
        "category_code": "city.e.other.noise", "title": "夜间装修噪声",
        "caller_name": "王女士", "caller_phone": "13900001111",
        "lon": PLACE[0], "lat": PLACE[1]})
    case = city.Case.objects.get()
    assert case.source == "hotline" and case.state == "reported"
    assert case.reporter_phone == "13900001111"  # readable through the model…
    from django.db import connection

    with connection.cursor() as cursor:  # …and encrypted at rest
        cursor.execute("SELECT reporter_phone, reporter_name FROM city_case WHERE id = %s",
                       [case.pk])
        raw_phone, raw_name = cursor.fetchone()
    assert "13900001111" not in raw_phone and "王" not in raw_name


def test_officials_who_neither_patrol_nor_take_calls_have_no_report_form(
        internal_client: Any, people: Any) -> None:
    sign_in_client(internal_client, people["handler"])
    assert internal_client.get("/city/report/").status_code == 404
