"""Applications and the credit platform: an approved licensing matter is published for
double publicity (双公示), and the officer reviewing an application sees the applicant's
credit check (联合奖惩) — a black-listed applicant is flagged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from yiwang.core.audit.service import AuditEvent
from yiwang.industry.applications.tests.conftest import MATTER, publish_matter, submitted
from yiwang.industry.applications.tests.test_lifecycle import approve_all
from yiwang.industry.services import service as catalogue
from yiwang.support.credit import service as credit
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def _licensing(legal_basis: list[dict[str, str]]) -> Any:
    catalogue.create_matter(code=MATTER, name="无犯罪记录证明", department_code="gaj",
                            audience="person", kind="licensing", legal_basis=legal_basis,
                            promised_days=5, statutory_days=20,
                            materials=[{"code": "id_card", "name": "身份证", "required": True,
                                        "licence_types": [], "form_key": "id_card"}])
    return publish_matter()


def test_an_approved_licensing_decision_is_published(city: Any, citizen: Any,
                                                     officer: Any) -> None:
    _licensing([{"title": "《示例条例》", "article": "第十条"}])
    app = approve_all(submitted(citizen), officer)
    assert app.state == "approved" and app.licence_identifier
    record = credit.Record.objects.get(doc_no=app.number)
    assert record.kind == "licensing" and record.authority_code == "gaj"
    assert record.legal_basis == "《示例条例》 第十条"
    assert record.licence_no and record.subject.name_masked.endswith("*")
    assert credit.public_records().filter(pk=record.pk).exists()


def test_without_a_legal_basis_the_decision_stands_but_is_not_published(
        city: Any, citizen: Any, officer: Any) -> None:
    _licensing([])
    app = approve_all(submitted(citizen), officer)
    assert app.state == "approved"
    assert not credit.Record.objects.exists()
    refused = AuditEvent.objects.get(action="credit.record_refused")
    assert refused.detail["fields"] == ["legal_basis"]


def test_the_officer_sees_a_black_listed_applicant_flagged(
        internal_client: Any, version: Any, citizen: Any, officer: Any) -> None:
    officer.user_permissions.add(Permission.objects.get(codename="handle_application"))
    app = submitted(citizen)
    sign_in_client(internal_client, officer)
    page = internal_client.get(f"/applications/{app.pk}/").content.decode()
    assert 'data-testid="credit-check" data-flagged="no"' in page
    assert 'data-testid="credit-clean"' in page
    today = timezone.localdate()
    credit.list_subject(credit.ListingInput(
        list_type="black", list_name="失信被执行人", code=citizen.id_number, name="李小明",
        reason="有履行能力而拒不履行生效法律文书确定的义务",
        legal_basis="《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条",
        decision_no="(2026)示执 1 号", decided_on=today, publish_from=today,
        expires_on=today + timedelta(days=730)), authority_code="gaj")
    page = internal_client.get(f"/applications/{app.pk}/").content.decode()
    assert 'data-flagged="yes"' in page and 'data-testid="credit-black"' in page
    assert "失信被执行人" in page and "拒不履行" in page
    checks = AuditEvent.objects.filter(action="credit.checked")
    assert checks.count() == 2
    assert {e.detail["purpose"] for e in checks} == {f"application:{app.number}"}
