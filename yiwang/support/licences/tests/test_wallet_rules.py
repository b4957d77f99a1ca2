"""Wallet and workbench rules (review L1, L3, §5): the full view needs a real-name (L2)
session; downloads count once per session, licence and format a minute; share openings
all count; the shares list is paginated; 有效 / 已暂停 / 已过期 filters follow validity."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from yiwang.support.identity.testing import sign_in_client
from yiwang.support.licences import service as licences
from yiwang.support.licences.models import Licence, Share
from yiwang.support.licences.tests.conftest import RECORD_FIELDS

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(citizen: Any, police: Any) -> licences.Licence:
    return licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                                  department_code="gaj", actor=police)


def test_the_full_view_needs_a_real_name_session(public_client: Any, citizen: Any,
                                                 record: Any) -> None:
    session = sign_in_client(public_client, citizen, amr=("sms",))
    sessions = type(session).objects.filter(pk=session.pk)
    sessions.update(acr=1)  # e.g. a capped sign-in
    url = reverse("licences_portal:detail", args=[record.pk])
    response = public_client.post(url)
    assert response.status_code == 302
    assert "/account/step-up/" in response["Location"] and "level=2" in response["Location"]
    assert not record.uses.filter(kind="reveal").exists()
    assert public_client.get(url).status_code == 200  # the masked view stays open
    sessions.update(acr=2)
    shown = public_client.post(url)
    assert shown.status_code == 200 and citizen.id_number in shown.content.decode()
    assert record.uses.filter(kind="reveal").count() == 1


def test_a_repeated_download_in_the_same_minute_counts_once(public_client: Any,
                                                            citizen: Any, record: Any) -> None:
    sign_in_client(public_client, citizen)
    pdf = reverse("licences_portal:pdf", args=[record.pk])
    for _ in range(3):  # a prefetch, the click, a second request of the browser
        assert public_client.get(pdf).status_code == 200
    public_client.head(pdf)
    public_client.get(reverse("licences_portal:vc", args=[record.pk]))
    assert sorted(u.detail["format"] for u in record.uses.filter(kind="download")) == [
        "pdf", "vc"]
    from django.core.cache import cache

    cache.clear()  # the minute is over
    public_client.get(pdf)
    assert record.uses.filter(kind="download", detail__format="pdf").count() == 2


def test_every_opening_of_a_share_counts(record: Any, citizen: Any, monkeypatch: Any) -> None:
    from django.db.models import QuerySet

    share, token = licences.create_share(record, actor=citizen, hours=1)
    Share.objects.filter(pk=share.pk).update(uses=5)  # others opened it meanwhile
    real_first = QuerySet.first

    def read_before_they_landed(self: Any) -> Any:
        found = real_first(self)
        if isinstance(found, Share):
            found.uses = 0  # the copy open_share read before the other openings committed
        return found

    monkeypatch.setattr(QuerySet, "first", read_before_they_landed)
    assert licences.open_share(token) is not None
    monkeypatch.undo()
    # Incremented in the database (F), not written back from the stale copy (0 + 1).
    assert Share.objects.get(pk=share.pk).uses == 6


def test_the_shares_list_is_paginated(public_client: Any, citizen: Any, record: Any) -> None:
    for _ in range(22):
        licences.create_share(record, actor=citizen, hours=1)
    sign_in_client(public_client, citizen)
    url = reverse("licences_portal:detail", args=[record.pk])
    first = public_client.get(url).content.decode()
    assert "第 1 页,共 2 页" in first and "shares=2" in first
    second = public_client.get(url, {"shares": "2"}).content.decode()
    assert "第 2 页,共 2 页" in second


def _expire(licence: Licence) -> None:
    Licence.objects.filter(pk=licence.pk).update(
        valid_until=timezone.localdate() - timedelta(days=1))


def test_wallet_filters_follow_validity(citizen: Any, police: Any, record: Any) -> None:
    old = licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                                 department_code="gaj", actor=police)
    _expire(old)
    assert list(licences.licences_of(citizen, status="active")) == [record]
    assert list(licences.licences_of(citizen, status="expired")) == [old]
    licences.revoke_licence(old, reason="注销", actor=police)
    assert list(licences.licences_of(citizen, status="expired")) == []
    assert list(licences.licences_of(citizen, status="revoked")) == [old]


def test_workbench_filters_follow_validity(internal_client: Any, citizen: Any, police: Any,
                                           record: Any) -> None:
    old = licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                                 department_code="gaj", actor=police)
    _expire(old)
    licences.suspend_licence(old, reason="核查", actor=police)
    assert list(licences.licences_of_department("gaj", status="expired")) == [old]
    assert list(licences.licences_of_department("gaj", status="active")) == [record]
    assert list(licences.licences_of_department("gaj", status="suspended")) == []
    sign_in_client(internal_client, police)
    from django.urls import reverse as _reverse

    url = _reverse("workbench:licences", urlconf="yiwang.urls.internal")
    expired = internal_client.get(url, {"status": "expired"}).content.decode()
    assert old.number in expired and record.number not in expired
    active = internal_client.get(url, {"status": "active"}).content.decode()
    assert record.number in active and old.number not in active
