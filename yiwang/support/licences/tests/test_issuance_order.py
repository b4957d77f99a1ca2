"""Serials and status list entries (review L2): a per-department sequence row that is also
the department's issuance lock, made safely by concurrent first issuances; random free
status list indexes (W3C Bitstring Status List, privacy); a new list once one is full."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from yiwang.support.licences import issuance, statuslists
from yiwang.support.licences import service as licences
from yiwang.support.licences.models import DepartmentSequence, Licence, StatusList
from yiwang.support.licences.tests.conftest import RECORD_FIELDS

pytestmark = pytest.mark.django_db


def issue(citizen: Any, police: Any) -> licences.Licence:
    return licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                                  department_code="gaj", actor=police)


def test_serials_come_from_the_department_sequence(citizen: Any, police: Any) -> None:
    first, second = issue(citizen, police), issue(citizen, police)
    assert first.number.endswith("00000001") and second.number.endswith("00000002")
    assert DepartmentSequence.objects.get(department_code="gaj").last_serial == 2
    # Not count()+1: a sequence that moved on (say, rows archived) is followed.
    DepartmentSequence.objects.filter(department_code="gaj").update(last_serial=41)
    assert issue(citizen, police).number.endswith("00000042")


def test_a_department_with_licences_before_the_sequence_continues_after_them(
        citizen: Any, police: Any) -> None:
    issue(citizen, police)
    DepartmentSequence.objects.all().delete()  # as after the migration: licences, no row
    assert issue(citizen, police).number.endswith("00000002")


def test_the_sequence_starts_after_the_highest_serial_not_the_count(
        citizen: Any, police: Any) -> None:
    """A gap in the serials (a row removed by hand) must not make the next identifier
    repeat one already issued (review A-L2)."""
    first, second = issue(citizen, police), issue(citizen, police)
    Licence.objects.filter(pk=first.pk).delete()
    DepartmentSequence.objects.all().delete()
    third = issue(citizen, police)
    assert third.number.endswith("00000003")
    assert third.identifier != second.identifier


def test_a_concurrent_first_issuance_that_made_the_row_first_is_no_500(
        citizen: Any, police: Any, monkeypatch: Any) -> None:
    """Another first issuance inserts the department's row after our look-up found none
    (two first issuances at once): our insert hits the unique department code, rolls back
    to its savepoint, and the retry takes that row (on PostgreSQL the insert waits for the
    other transaction, then fails the same way)."""
    real = issuance._locked_sequence
    looked = []

    def stale_first(department_code: str) -> Any:
        looked.append(department_code)
        if len(looked) == 1:
            DepartmentSequence.objects.create(department_code=department_code,
                                              last_serial=5)  # the other issuance's row
            return None
        return real(department_code)

    monkeypatch.setattr(issuance, "_locked_sequence", stale_first)
    licence = issue(citizen, police)
    assert looked == ["gaj", "gaj"]
    assert licence.number.endswith("00000006")
    assert DepartmentSequence.objects.get(department_code="gaj").last_serial == 6


def test_a_sequence_that_can_never_be_made_is_an_error_not_a_loop(
        city: Any, monkeypatch: Any) -> None:
    def always(department_code: str) -> None:
        raise IntegrityError("no")

    monkeypatch.setattr(issuance, "_insert_sequence", always)
    with pytest.raises(RuntimeError), transaction.atomic():
        issuance.next_serial("gaj")


def test_status_indexes_are_random_and_free(citizen: Any, police: Any,
                                            monkeypatch: Any) -> None:
    first = issue(citizen, police)
    # The next random pick hits the index the first licence holds, then a free one.
    picks = iter([first.revocation_index, 7, first.suspension_index, 9])
    monkeypatch.setattr(statuslists.secrets, "randbelow", lambda n: next(picks))
    second = issue(citizen, police)
    assert (second.revocation_index, second.suspension_index) == (7, 9)
    assert second.revocation_list == first.revocation_list
    assert StatusList.objects.get(pk=first.revocation_list.pk).allocated == 2


def test_indexes_are_not_handed_out_in_order(citizen: Any, police: Any) -> None:
    indexes = [issue(citizen, police).revocation_index for _ in range(3)]
    assert len(set(indexes)) == 3
    assert indexes != [0, 1, 2]  # sequential would be; random is, once in ~10^15


def test_when_random_picks_keep_missing_a_free_index_is_listed(
        citizen: Any, police: Any, monkeypatch: Any) -> None:
    first = issue(citizen, police)
    monkeypatch.setattr(statuslists, "RANDOM_TRIES", 0)
    monkeypatch.setattr(statuslists.secrets, "choice", lambda free: free[0])
    second = issue(citizen, police)
    expected = 0 if first.revocation_index != 0 else 1
    assert second.revocation_index == expected


def test_a_full_list_is_followed_by_a_new_one(citizen: Any, police: Any) -> None:
    first = issue(citizen, police)
    StatusList.objects.filter(pk=first.revocation_list.pk).update(
        allocated=first.revocation_list.size)
    second = issue(citizen, police)
    assert second.revocation_list != first.revocation_list
    assert second.revocation_list.list_id == "gaj-revocation-2"
    assert second.suspension_list == first.suspension_list


def test_two_licences_cannot_share_a_status_entry(citizen: Any, police: Any) -> None:
    first, second = issue(citizen, police), issue(citizen, police)
    second.revocation_index = first.revocation_index
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save(update_fields=["revocation_index"])
