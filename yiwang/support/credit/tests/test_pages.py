"""Credit publicity on the portal as the public uses it, and 我的信用 as a subject uses it:
search, tabs, masking, a record's page, an objection that takes a record off publicity, a
repair request, and what another citizen may not do."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from yiwang.support.credit import service
from yiwang.support.credit.testing import black, make_credit, penalty
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db
FIRM = "示例市湖畔餐饮有限公司"


@pytest.fixture
def people(settings: Any) -> dict[str, Any]:
    from django.core.cache import cache

    cache.clear()
    return make_credit()


def _text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_publicity_search_masks_persons_and_shows_enterprises(public_client: Any,
                                                              people: Any) -> None:
    code = people["enterprise"].credit_code
    firm = penalty(code, FIRM, doc_no="示市监罚〔2026〕11号")
    penalty(people["citizen"].id_number, "王五", doc_no="示市监罚〔2026〕12号")
    page = _text(public_client.get("/credit/"))
    assert "示市监罚〔2026〕11号" in page and "示市监罚〔2026〕12号" in page
    assert "王*" in page and "王五" not in page
    assert people["citizen"].id_number not in page
    found = _text(public_client.get("/credit/", {"q": code}))
    assert found.count('data-testid="credit-record"') == 1
    assert _text(public_client.get(f"/credit/records/{firm.pk}/")).count(code) >= 1
    enterprise = _text(public_client.get(f"/credit/enterprises/{code}/"))
    assert FIRM in enterprise and "示市监罚〔2026〕11号" in enterprise
    none = _text(public_client.get("/credit/", {"q": "不存在的公司"}))
    assert 'data-testid="credit-empty"' in none


def test_a_black_list_tab_and_its_expiry(public_client: Any, people: Any) -> None:
    today = timezone.localdate()
    black(people["enterprise"].credit_code, FIRM, publish_from=today - timedelta(days=30),
          expires_on=today + timedelta(days=30))
    page = _text(public_client.get("/credit/", {"tab": "black"}))
    assert page.count('data-testid="credit-entry"') == 1
    assert "《市场监督管理严重违法失信名单管理办法》第九条" in page
    expired = black(people["enterprise"].credit_code, FIRM, decision_no="示市监信〔2025〕9号",
                    publish_from=today - timedelta(days=400), expires_on=today)
    page = _text(public_client.get("/credit/", {"tab": "black"}))
    assert page.count('data-testid="credit-entry"') == 1  # the one expiring today is gone
    assert expired.decision_no not in page


def test_a_subject_objects_and_the_record_leaves_publicity(public_client: Any,
                                                           people: Any) -> None:
    record = penalty(people["enterprise"].credit_code, FIRM)
    sign_in_client(public_client, people["citizen"])
    mine = _text(public_client.get("/credit/mine/"))
    assert FIRM in mine and 'data-testid="object"' in mine
    form = f"/credit/mine/object/record/{record.pk}/"
    empty = public_client.post(form, {"statement": " "})
    assert empty.status_code == 400 and "异议的理由" in empty.content.decode()
    done = public_client.post(form, {"statement": "罚款金额应为 0.3 万元。"})
    assert done.status_code == 302
    record.refresh_from_db()
    assert record.publication == service.Publication.SUSPENDED
    public_client.logout()
    assert public_client.get(f"/credit/records/{record.pk}/").status_code == 404
    assert "示市监罚" not in _text(public_client.get("/credit/"))


def test_repair_through_the_portal(public_client: Any, people: Any) -> None:
    old = penalty(people["enterprise"].credit_code, FIRM,
                  decided_on=timezone.localdate() - timedelta(days=200))
    sign_in_client(public_client, people["citizen"])
    form = f"/credit/mine/repair/record/{old.pk}/"
    refused = public_client.post(form, {"statement": "已整改", "corrections": "已缴清罚款"})
    assert refused.status_code == 400 and "信用承诺" in refused.content.decode()
    assert public_client.post(form, {"statement": "已整改", "corrections": "已缴清罚款",
                                     "commitment": "yes"}).status_code == 302
    mine = _text(public_client.get("/credit/mine/"))
    assert 'data-testid="my-dispute" data-state="pending"' in mine


def test_another_citizen_cannot_reach_someone_elses_credit(public_client: Any,
                                                          people: Any) -> None:
    record = penalty(people["enterprise"].credit_code, FIRM)
    sign_in_client(public_client, people["other"])
    mine = _text(public_client.get("/credit/mine/"))
    assert FIRM not in mine and 'data-testid="no-subjects"' in mine
    for action in ("object", "repair"):
        response = public_client.post(f"/credit/mine/{action}/record/{record.pk}/",
                                      {"statement": "x", "corrections": "y",
                                       "commitment": "yes"})
        assert response.status_code == 404
    record.refresh_from_db()
    assert record.publication == service.Publication.PUBLISHED
    assert not service.Dispute.objects.exists()


def test_signed_out_visitors_are_sent_to_sign_in(public_client: Any, people: Any) -> None:
    response = public_client.get("/credit/mine/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_long_or_odd_query_is_answered_calmly(public_client: Any, people: Any) -> None:
    penalty(people["enterprise"].credit_code, FIRM)
    for q in ("x" * 10000, "!!!???。。。", "%_\\'"):
        page = _text(public_client.get("/credit/", {"q": q, "tab": "nope", "page": "zz"}))
        assert 'data-testid="credit-empty"' in page
