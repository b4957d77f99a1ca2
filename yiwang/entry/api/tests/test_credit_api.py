"""The public credit publicity API: only what is in force today, natural persons masked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from yiwang.support.credit import service
from yiwang.support.credit.testing import black, make_credit, penalty

pytestmark = pytest.mark.django_db
FIRM = "示例市湖畔餐饮有限公司"


@pytest.fixture
def people() -> dict[str, Any]:
    from django.core.cache import cache

    cache.clear()
    return make_credit()


def test_records_are_listed_masked_and_filtered(public_client: Any, people: Any) -> None:
    code = people["enterprise"].credit_code
    firm = penalty(code, FIRM, doc_no="罚-企业")
    penalty(people["citizen"].id_number, "王五", doc_no="罚-个人")
    response = public_client.get("/api/v1/credit/records", {"kind": "penalty"})
    assert response.status_code == 200 and response["X-Total-Count"] == "2"
    body = response.json()
    person = next(r for r in body if r["doc_no"] == "罚-个人")
    assert person["name"] == "王*" and people["citizen"].id_number not in str(body)
    assert person["legal_basis"].startswith("《中华人民共和国食品安全法》")
    one = public_client.get("/api/v1/credit/records", {"q": code}).json()
    assert [r["id"] for r in one] == [firm.pk]
    assert public_client.get(f"/api/v1/credit/records/{firm.pk}").json()["fine_wan"] == "0.5"
    detail = public_client.get(f"/api/v1/credit/enterprises/{code}").json()
    assert detail["name"] == FIRM and len(detail["records"]) == 1
    by_id = public_client.get(f"/api/v1/credit/enterprises/{people['citizen'].id_number}")
    assert by_id.status_code == 404  # persons are not looked up by ID number


def test_suspended_and_expired_are_not_answered(public_client: Any, people: Any) -> None:
    code = people["enterprise"].credit_code
    record = penalty(code, FIRM)
    service.file_objection(people["citizen"], record, statement="有误。")
    assert public_client.get(f"/api/v1/credit/records/{record.pk}").status_code == 404
    today = timezone.localdate()
    black(code, FIRM, publish_from=today - timedelta(days=365), expires_on=today)
    live = black(code, FIRM, decision_no="信-2", publish_from=today,
                 expires_on=today + timedelta(days=10))
    entries = public_client.get("/api/v1/credit/lists", {"type": "black"}).json()
    assert [e["id"] for e in entries] == [live.pk]
