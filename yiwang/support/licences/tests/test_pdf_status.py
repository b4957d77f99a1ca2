"""A sealed PDF proves who sealed it, not that the licence is still valid: presented as a
PDF, a licence is checked like its credential (status, validity, issuer's authorisation),
and a sealed PDF that is no licence of this instance is never called a valid licence."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.support.licences import service as licences
from yiwang.support.licences.tests.conftest import RECORD_FIELDS

pytestmark = pytest.mark.django_db


def _failed(outcome: Any) -> set[str]:
    return {c["name"] for c in outcome.errors}


def test_a_revoked_or_suspended_licence_fails_as_a_pdf(citizen: Any, police: Any,
                                                     settings: Any) -> None:
    settings.YIWANG_LICENCES_SEAL_LEVEL = "B-B"
    licence = licences.issue_licence("no_criminal_record", holder=citizen,
                                     fields=RECORD_FIELDS, department_code="gaj", actor=police)
    pdf = licences.pdf_bytes(licence)
    fresh = licences.verify_presented(kind="pdf", payload=pdf)
    assert fresh.valid, fresh.errors
    assert {"status", "authorised"} <= {c["name"] for c in fresh.checks}

    licences.suspend_licence(licence, reason="核查中", actor=police)
    suspended = licences.verify_presented(kind="pdf", payload=pdf)
    assert not suspended.valid and "status" in _failed(suspended)

    licences.reinstate_licence(licence, reason="核查完毕", actor=police)
    licences.revoke_licence(licence, reason="依法撤销", actor=police)
    revoked = licences.verify_presented(kind="pdf", payload=pdf)
    assert not revoked.valid and "status" in _failed(revoked)


def test_a_sealed_pdf_that_is_no_licence_here_is_not_a_valid_licence(
        citizen: Any, police: Any, settings: Any) -> None:
    """Re-sealing the face of a licence (any seal holder could seal a home-made one) gives a
    file with valid seals that this instance never issued."""
    from yiwang.support.licences.tests.test_sealed import edited

    settings.YIWANG_LICENCES_SEAL_LEVEL = "B-B"
    licence = licences.issue_licence("no_criminal_record", holder=citizen,
                                     fields=RECORD_FIELDS, department_code="gaj", actor=police)
    unknown = edited(licences.pdf_bytes(licence))  # another file: no licence has its hash
    outcome = licences.verify_presented(kind="pdf", payload=unknown)
    assert not outcome.valid
    assert "licence" in _failed(outcome)
    assert outcome.licence is None


def test_deeply_nested_json_is_malformed_not_a_crash() -> None:
    outcome = licences.verify_presented(kind="vc", payload="[" * 100_000)
    assert not outcome.valid and _failed(outcome) == {"malformed"}
