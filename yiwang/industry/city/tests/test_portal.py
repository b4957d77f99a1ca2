"""The citizen's side: report a problem with a photo and a place, follow it, evaluate it;
nobody else's reports are visible; bad input gets a message per field and saves nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest

from yiwang.industry.city import service as city
from yiwang.industry.city.testing import NEAR, PLACE, citizen, jpeg, make_city, photo
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> dict[str, Any]:
    return make_city()


def _jpeg() -> io.BytesIO:
    return jpeg("stall.jpg")

def _form(**extra: Any) -> dict[str, Any]:
    return {"category_code": "city.e.street_order.vending", "title": "路口有流动摊贩",
            "description": "每天傍晚占用人行道", "lon": str(PLACE[0]), "lat": str(PLACE[1]),
            "photos": _jpeg(), **extra}


def test_a_citizen_reports_follows_and_evaluates(public_client: Any, people: Any) -> None:
    me = people["citizen"]
    sign_in_client(public_client, me)
    form = public_client.get("/reports/new/").content.decode()
    assert 'data-testid="pick-map"' in form and "vendor/leaflet/leaflet.js" in form
    assert "占道经营" in form
    response = public_client.post("/reports/new/", _form(), follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "已收到您的反映" in page
    case = city.Case.objects.get()
    assert case.reporter == me and case.state == "reported"
    token = case.events.get(action="report").photos[0]
    assert public_client.get(f"/reports/{case.number}/photos/{token}").status_code == 200
    assert case.number in public_client.get("/reports/").content.decode()
    # the same problem reported again nearby: told, and merged
    again = public_client.post("/reports/new/", _form(lon=str(NEAR[0])), follow=True)
    assert f"（{case.number}）" in again.content.decode()
    # handled and closed by the city, then evaluated by the citizen
    city.transition(case, "file", actor=people["dispatcher"])
    case.refresh_from_db()
    city.transition(case, "handle", actor=people["handler"], note="已劝离",
                    photos=[photo(people["handler"])])
    city.transition(case, "verify_pass", actor=people["inspector"],
                    photos=[photo(people["inspector"])], lon=PLACE[0], lat=PLACE[1])
    detail = public_client.get(f"/reports/{case.number}/").content.decode()
    assert "已结案" in detail and "已劝离" in detail and 'data-testid="evaluate-form"' in detail
    assert people["handler"].display_name not in detail  # officials stay unnamed
    public_client.post(f"/reports/{case.number}/evaluate/", {"satisfaction": "4"})
    case.refresh_from_db()
    assert case.satisfaction == 4


def test_bad_reports_get_a_message_per_field_and_save_nothing(public_client: Any,
                                                             people: Any) -> None:
    sign_in_client(public_client, people["citizen"])
    outside = public_client.post("/reports/new/", _form(lon="121.9", lat="31.2"))
    assert outside.status_code == 400 and "网格范围" in outside.content.decode()
    no_category = public_client.post("/reports/new/", _form(category_code=""))
    assert no_category.status_code == 400 and "具体类别" in no_category.content.decode()
    fake = io.BytesIO(b"%PDF-1.4 not an image")
    fake.name = "x.jpg"
    bad_photo = public_client.post("/reports/new/", _form(photos=fake))
    assert bad_photo.status_code == 400
    assert not city.Case.objects.exists()


def test_nobody_else_sees_a_report(public_client: Any, people: Any) -> None:
    case = city.report(source="citizen", category_code="city.e.street_order.vending",
                       title="摆摊", lon=PLACE[0], lat=PLACE[1], reporter=people["citizen"],
                       photos=[photo(people["citizen"])]).case
    sign_in_client(public_client, citizen("neighbour"))
    assert public_client.get(f"/reports/{case.number}/").status_code == 404
    token = case.events.get(action="report").photos[0]
    assert public_client.get(f"/reports/{case.number}/photos/{token}").status_code == 404
    assert case.number not in public_client.get("/reports/").content.decode()


def test_signing_in_is_required(public_client: Any, people: Any) -> None:
    response = public_client.get("/reports/new/")
    assert response.status_code == 302 and "next=" in response["Location"]
