"""Workbench pages: issuing, listing and changing status, only for the issuing department."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse as _reverse

from yiwang.core.audit import service as audit
from yiwang.support.identity.testing import sign_in_client
from yiwang.support.licences import service as licences
from yiwang.support.licences.tests.conftest import RECORD_FIELDS, make_official

pytestmark = pytest.mark.django_db


def reverse(name: str, args: Any = None) -> str:
    return _reverse(name, args=args, urlconf="yiwang.urls.internal")


@pytest.fixture
def record(citizen: Any, police: Any) -> licences.Licence:
    return licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                                  department_code="gaj", actor=police)


def test_anonymous_and_citizens_are_kept_out(internal_client: Any, citizen: Any,
                                             record: Any) -> None:
    url = reverse("workbench:licences")
    assert internal_client.get(url).status_code == 302
    sign_in_client(internal_client, citizen)
    assert internal_client.get(url).status_code == 403


def test_official_without_permission_gets_403(internal_client: Any, city: Any) -> None:
    official = make_official("gaj.nobody", "gaj", "audit.view_auditevent")
    sign_in_client(internal_client, official)
    assert internal_client.get(reverse("workbench:licences")).status_code == 403
    assert internal_client.get(reverse("workbench:licence_issue")).status_code == 403


def test_list_is_masked_and_of_the_department(internal_client: Any, police: Any,
                                              citizen: Any, record: Any) -> None:
    sign_in_client(internal_client, police)
    page = internal_client.get(reverse("workbench:licences")).content.decode()
    assert record.number in page and citizen.id_number not in page


def test_another_department_cannot_see_or_act(internal_client: Any, clerk: Any,
                                              record: Any) -> None:
    sign_in_client(internal_client, clerk)
    assert record.number not in internal_client.get(
        reverse("workbench:licences")).content.decode()
    assert internal_client.get(reverse("workbench:licence", args=[record.pk])).status_code == 404
    response = internal_client.post(reverse("workbench:licence_action",
                                            args=[record.pk, "revoke"]), {"reason": "越权"})
    assert response.status_code == 404
    record.refresh_from_db()
    assert record.status == "active"


def test_suspend_and_reinstate_through_the_pages(internal_client: Any, police: Any,
                                                 record: Any) -> None:
    sign_in_client(internal_client, police)
    url = reverse("workbench:licence_action", args=[record.pk, "suspend"])
    internal_client.post(url, {"reason": ""})
    record.refresh_from_db()
    assert record.status == "active"
    internal_client.post(url, {"reason": "核查"})
    record.refresh_from_db()
    assert record.status == "suspended"
    internal_client.post(reverse("workbench:licence_action", args=[record.pk, "reinstate"]),
                         {"reason": "核查完毕"})
    record.refresh_from_db()
    assert record.status == "active"
    assert [e.action for e in audit.search(audit.AuditFilter(action="licence.re"))] == [
        "licence.reinstated"]


def test_issue_through_the_page(internal_client: Any, police: Any, citizen: Any) -> None:
    sign_in_client(internal_client, police)
    url = reverse("workbench:licence_issue")
    assert "无犯罪记录证明" in internal_client.get(url).content.decode()
    lookup = internal_client.post(url, {"type": "no_criminal_record", "department": "gaj",
                                        "code": citizen.id_number, "lookup": "1"})
    text = lookup.content.decode()
    assert lookup.status_code == 200 and "李*" in text and "李小明" not in text
    assert audit.search(audit.AuditFilter(action="licence.holder_lookup")).count() == 1
    missing = internal_client.post(url, {"type": "no_criminal_record", "department": "gaj",
                                         "code": citizen.id_number, "issue": "1",
                                         "purpose": "入职"})
    assert "请填写" in missing.content.decode()
    done = internal_client.post(url, {"type": "no_criminal_record", "department": "gaj",
                                      "code": citizen.id_number, "issue": "1",
                                      **RECORD_FIELDS})
    assert done.status_code == 302
    licence = licences.Licence.objects.get()
    assert licence.holder_code == citizen.id_number and licence.issued_by == police
