"""Status list credentials expire (review M4): validFrom set back by the clock allowance,
validUntil after YIWANG_LICENCES_STATUS_LIST_VALID_HOURS, the id the URL the entries name,
signed by a key of the list's own issuer; signed again lazily when served close to expiry
and by the hourly task past half of their validity."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from yiwang.core.tasks import service as task_service
from yiwang.support.licences import service as licences
from yiwang.support.licences import tasks
from yiwang.support.licences.models import StatusList
from yiwang.support.licences.tests.conftest import RECORD_FIELDS
from yiwang.support.trust import service as trust
from yiwang.verify import dataintegrity

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(citizen: Any, police: Any) -> licences.Licence:
    return licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                                  department_code="gaj", actor=police)


def _time(text: str) -> Any:
    return dataintegrity._parse_time(text)


def test_a_served_list_has_a_validity_period_its_url_and_its_issuers_key(
        public_client: Any, record: Any, settings: Any) -> None:
    settings.YIWANG_LICENCES_STATUS_LIST_VALID_HOURS = 24
    entries = json.loads(record.vc)["credentialStatus"]
    for entry in entries:
        url = entry["statusListCredential"]
        path = reverse("licences:status_list", args=[url.rsplit("/", 1)[1]])
        document = public_client.get(path).json()
        assert document["id"] == url  # the id is the URL the entry points to
        now = timezone.now()
        valid_from, valid_until = _time(document["validFrom"]), _time(document["validUntil"])
        assert now - timedelta(minutes=6) < valid_from < now - timedelta(minutes=4)
        assert now + timedelta(hours=23) < valid_until <= now + timedelta(hours=24)
        key = trust.resolve_key(document["proof"]["verificationMethod"])
        assert key is not None and key.issuer_id == document["issuer"]
        assert document["issuer"] == json.loads(record.vc)["issuer"]["id"]
        assert dataintegrity.verify_proof(document, trust.resolve_key).valid


def test_an_expired_list_is_signed_again_when_served(record: Any) -> None:
    slist = record.revocation_list
    first = licences.status_list_document(slist.list_id)
    assert licences.status_list_document(slist.list_id) == first  # kept while fresh
    StatusList.objects.filter(pk=slist.pk).update(
        credential_expires_at=timezone.now() - timedelta(seconds=1))
    again = licences.status_list_document(slist.list_id)
    assert _time(again["validUntil"]) > timezone.now()
    assert StatusList.objects.get(pk=slist.pk).credential_expires_at > timezone.now()
    assert licences.verify_presented(kind="vc", payload=record.vc).valid


def test_a_list_naming_another_url_is_signed_again(record: Any, settings: Any) -> None:
    slist = record.revocation_list
    licences.status_list_document(slist.list_id)
    settings.YIWANG_PUBLIC_URL = "https://gov.example.cn"
    document = licences.status_list_document(slist.list_id)
    assert document["id"] == f"https://gov.example.cn/credentials/status/{slist.list_id}"


def test_the_hourly_task_signs_lists_past_half_their_validity(record: Any,
                                                                settings: Any) -> None:
    settings.YIWANG_LICENCES_STATUS_LIST_VALID_HOURS = 24
    assert tasks.resign_status_lists.name == "licences.resign_status_lists"
    assert task_service.enqueue("licences.resign_status_lists")  # registered (else LookupError)
    assert tasks.resign_status_lists() == {"signed": 2}  # never signed: both lists
    assert tasks.resign_status_lists() == {"signed": 0}  # fresh: nothing to do
    StatusList.objects.filter(pk=record.suspension_list.pk).update(
        credential_expires_at=timezone.now() + timedelta(hours=11))
    assert tasks.resign_status_lists() == {"signed": 1}
    fresh = StatusList.objects.get(pk=record.suspension_list.pk)
    assert fresh.credential_expires_at > timezone.now() + timedelta(hours=23)


def test_a_status_change_drops_the_signed_list(record: Any, police: Any) -> None:
    licences.status_list_document(record.suspension_list.list_id)
    licences.suspend_licence(record, reason="核查中", actor=police)
    slist = StatusList.objects.get(pk=record.suspension_list.pk)
    assert slist.credential == "" and slist.credential_expires_at is None
    outcome = licences.verify_presented(kind="vc", payload=record.vc)
    assert not outcome.valid and "status" in {c["name"] for c in outcome.errors}
