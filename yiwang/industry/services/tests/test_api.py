"""The services API: public catalogue, guide and form schema; internal version management."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.industry.services import service
from yiwang.industry.services.tests.conftest import FLOW, FORM, live_version
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db
BASE = "/api/v1/services"


def test_public_catalogue_guide_and_schema(public_client: Any, matter: service.Matter) -> None:
    assert public_client.get(f"{BASE}/matters/{matter.code}").status_code == 404
    live_version(matter)
    response = public_client.get(f"{BASE}/matters?q=个体")
    assert response["X-Total-Count"] == "1"
    assert response.json()[0] == {**response.json()[0], "code": matter.code, "online": True}
    guide = public_client.get(f"{BASE}/matters/{matter.code}").json()
    assert guide["statutory_days"] == 15 and guide["version"] == 1
    schema = public_client.get(f"{BASE}/matters/{matter.code}/schema").json()
    assert schema["version"] == 1 and "shop_name" in schema["json_schema"]["properties"]


def test_internal_versions_are_scoped_to_the_department(
        internal_client: Any, matter: service.Matter, market_official: Any,
        police_official: Any) -> None:
    sign_in_client(internal_client, police_official)
    assert internal_client.post(f"{BASE}/matters/{matter.code}/drafts").status_code == 403
    sign_in_client(internal_client, market_official)
    draft = internal_client.post(f"{BASE}/matters/{matter.code}/drafts").json()
    response = internal_client.put(f"{BASE}/versions/{draft['id']}",
                                   {"form": FORM, "flow_spec": FLOW,
                                    "fee_table": {"rows": [{"item": "", "amount_fen": 1}]}},
                                   content_type="application/json")
    assert response.status_code == 400 and "fee_table" in response.json()["errors"]
    response = internal_client.put(f"{BASE}/versions/{draft['id']}",
                                   {"form": FORM, "flow_spec": FLOW},
                                   content_type="application/json")
    assert response.status_code == 200
    sign_in_client(internal_client, police_official)
    assert internal_client.post(f"{BASE}/versions/{draft['id']}/publish").status_code == 403
    sign_in_client(internal_client, market_official)
    response = internal_client.post(f"{BASE}/versions/{draft['id']}/publish")
    assert response.status_code == 200 and response.json()["state"] == "published"
    listed = internal_client.get(f"{BASE}/matters/{matter.code}/versions").json()
    assert [v["state"] for v in listed] == ["published"]


def test_public_life_events_and_bundles(public_client: Any, city: Any) -> None:
    service.ensure_life_event(code="birth", name="出生", audience="person")
    service.ensure_life_event(code="open", name="开办", audience="legal")
    events = public_client.get(f"{BASE}/life-events?audience=person").json()
    assert [e["code"] for e in events] == ["birth"]
    form = {"version": 1, "components": [{"type": "text", "key": "child", "label": "姓名",
                                          "required": True}]}
    for code, dept in (("A", "wjw"), ("B", "gaj")):
        live_version(service.create_matter(code=code, name=code, department_code=dept,
                                           audience="person"), form=form)
    bundle = service.save_bundle(code="birth", name="出生一件事", department_code="wjw",
                                 form=form, life_event="birth",
                                 members=[{"matter": "A", "map": {"child": "child"}},
                                          {"matter": "B", "map": {"child": "child"}}])
    assert public_client.get(f"{BASE}/bundles/birth").status_code == 404
    service.publish_bundle(bundle)
    found = public_client.get(f"{BASE}/bundles/birth").json()
    assert found["members"] == ["A", "B"] and found["online"] and found["life_event"] == "birth"
    assert [b["code"] for b in public_client.get(f"{BASE}/bundles").json()] == ["birth"]
