"""The custodian checks of a standing authorisation, read with the authorisation itself
(``with_custodian_checks``): an account made inactive, a custodian taken off the seal or a
membership ended refuses the next look-up and the next seal, as the separate reads did;
a custodian who is a member of one of the department's units still counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from yiwang.platform.orgs import service as orgs
from yiwang.support.seals import service as seals
from yiwang.support.seals.testing import PkiBackend, sample_pdf
from yiwang.support.seals.tests.test_service import request_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def standing(officials: Any, pki_backend: PkiBackend) -> tuple[Any, Any]:
    seal = seals.create_seal(department_code="scjgj", name="示例市市场监督管理局证照专用章",
                             kind="licence", custodians=[officials.custodian],
                             actor=officials.custodian)
    user = officials.custodian
    seals.authorise_seal_use(seal, custodian=user, request=request_of(user),
                             purpose="licence:*",
                             standing_until=timezone.now() + timedelta(days=10))
    found = seals.licence_seal_for("scjgj", "business_licence")
    assert found is not None and found[1].custodian_id == user.pk
    return found


def _refused(found: tuple[Any, Any], because: str = "保管人") -> None:
    assert seals.licence_seal_for("scjgj", "business_licence") is None
    with pytest.raises(ValidationError, match=because):
        seals.seal_pdf(sample_pdf(), seal=found[0], authorisation=found[1], level="B-B",
                       purpose="licence:business_licence")


def test_a_standing_authorisation_seals(standing: tuple[Any, Any]) -> None:
    sealed = seals.seal_pdf(sample_pdf(), seal=standing[0], authorisation=standing[1],
                            level="B-B", purpose="licence:business_licence")
    assert sealed.startswith(b"%PDF")


def test_an_inactive_custodian_is_refused(standing: tuple[Any, Any], officials: Any) -> None:
    get_user_model().objects.filter(pk=officials.custodian.pk).update(is_active=False)
    _refused(standing)


def test_a_custodian_taken_off_the_seal_is_refused(standing: tuple[Any, Any],
                                                   officials: Any) -> None:
    seals.set_custodians(standing[0], [officials.clerk], actor=officials.custodian)
    # Taking a custodian off withdraws their authorisations too.
    _refused(standing, "保管人|撤回")


def test_a_custodian_who_left_the_department_is_refused(standing: tuple[Any, Any],
                                                        officials: Any) -> None:
    today = timezone.localdate()
    orgs.memberships_of(officials.custodian).update(started_on=today - timedelta(days=30),
                                                    ended_on=today - timedelta(days=1))
    _refused(standing)
