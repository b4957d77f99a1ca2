"""The perception API as its callers use it: devices post readings with their credential;
officials see only their departments' devices and alarms."""

from __future__ import annotations

import json
from itertools import count
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from yiwang.platform.orgs import service as orgs
from yiwang.platform.perception import service as perception
from yiwang.platform.perception.testing import make_city, make_device, now_ms
from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db
URL = "/api/v1/perception"
_seq = count(1)


def _official(username: str, department: str, manager: bool = False) -> Any:
    user = identity.create_official(username, f"官员{next(_seq)}", password="y" * 20)
    orgs.add_member(user, department_code=department)
    if manager:
        user.user_permissions.add(Permission.objects.get(
            content_type__app_label="perception", codename="change_device"))
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def device() -> Any:
    make_city()
    device = make_device()
    perception.create_rule("水位超警戒", kind="threshold", metric="level",
                           type_code="water_level", value=5.0)
    return device


def _post(client: Any, body: Any, token: str | None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(f"{URL}/telemetry", data, content_type="application/json", **headers)


def test_a_device_posts_readings_with_its_credential(internal_client: Any, device: Any) -> None:
    token = perception.issue_token(device)
    t = now_ms() - 1000
    response = _post(internal_client, {"readings": [
        {"ts": t, "values": {"level": 6.1}},
        {"ts": t + 1, "values": {"level": 99}},
    ]}, token)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 1 and body["alarms_raised"] == 1
    assert body["rejected"] == [{"index": 1, "device": "WL-001", "code": "out_of_range",
                                 "detail": body["rejected"][0]["detail"], "metric": "level"}]


def test_bad_credentials_and_bodies_get_clear_answers(internal_client: Any, device: Any) -> None:
    token = perception.issue_token(device)
    assert _post(internal_client, {"readings": []}, None).status_code == 401
    assert _post(internal_client, {"readings": []}, "ywd_forged").status_code == 401
    not_json = _post(internal_client, b"{readings", token)
    assert not_json.status_code == 400 and "JSON" in not_json.json()["detail"]
    assert _post(internal_client, {"data": []}, token).status_code == 400
    too_many = _post(internal_client, {"readings": [{}] * 6000}, token)
    assert too_many.status_code == 400 and "分批" in too_many.json()["detail"]


def test_a_busy_database_answers_503_with_retry_after(internal_client: Any, device: Any,
                                                      monkeypatch: Any) -> None:
    token = perception.issue_token(device)

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise perception.Busy("database is locked")

    monkeypatch.setattr(perception, "ingest", busy)
    response = _post(internal_client, {"readings": [{"ts": now_ms(), "values": {"level": 1}}]},
                     token)
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert "未入库" in response.json()["detail"]


def test_officials_see_only_their_departments_devices_and_alarms(
        internal_client: Any, device: Any) -> None:
    perception.ingest_readings([{"device": "WL-001", "ts": now_ms() - 1000,
                                 "values": {"level": 7}}])
    alarm = perception.Alarm.objects.get()
    sign_in_client(internal_client, _official("cgj.one", "cgj"))
    assert internal_client.get(f"{URL}/devices").json()["count"] == 0
    assert internal_client.get(f"{URL}/devices/WL-001").status_code == 404
    assert internal_client.get(f"{URL}/alarms").json()["count"] == 0
    assert internal_client.post(f"{URL}/alarms/{alarm.pk}/acknowledge").status_code == 404
    assert internal_client.post(f"{URL}/devices/WL-001/token").status_code == 404

    sign_in_client(internal_client, _official("swj.one", "swj"))
    page = internal_client.get(f"{URL}/devices?status=online").json()
    assert [d["code"] for d in page["items"]] == ["WL-001"]
    assert page["items"][0]["health"]["accepted"] == 1
    alarms = internal_client.get(f"{URL}/alarms").json()["items"]
    assert [a["id"] for a in alarms] == [alarm.pk]
    acked = internal_client.post(f"{URL}/alarms/{alarm.pk}/acknowledge").json()
    assert acked["status"] == "active_ack"
    # reading is not managing: no credential for a plain member
    assert internal_client.post(f"{URL}/devices/WL-001/token").status_code == 403


def test_a_device_manager_registers_a_device_and_gets_its_credential(
        internal_client: Any, device: Any) -> None:
    sign_in_client(internal_client, _official("swj.admin", "swj", manager=True))
    body = {"code": "WL-NEW", "name": "新水位计", "type_code": "water_level",
            "department_code": "swj", "lon": 120.025, "lat": 30.015}
    created = internal_client.post(f"{URL}/devices", body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["grid_code"] == "339901001001007"
    other = internal_client.post(f"{URL}/devices", {**body, "code": "X", "department_code":
                                                    "cgj"}, content_type="application/json")
    assert other.status_code == 403
    outside = internal_client.post(f"{URL}/devices", {**body, "code": "Y", "lon": 121.9},
                                   content_type="application/json")
    assert outside.status_code == 400 and "网格" in outside.json()["detail"]
    token = internal_client.post(f"{URL}/devices/WL-NEW/token").json()["token"]
    sent = _post(internal_client, {"readings": [{"ts": now_ms() - 5, "values": {"level": 1}}]},
                 token)
    assert sent.json()["accepted"] == 1
    series = internal_client.get(f"{URL}/devices/WL-NEW/series",
                                 {"metric": "level", "start": now_ms() - 60_000,
                                  "end": now_ms() + 1}).json()
    assert [p["value"] for p in series["points"]] == [1.0]
