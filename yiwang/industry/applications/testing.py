"""Helpers for tests and benchmarks that set up officials who handle applications, and
decided applications to evaluate (好差评)."""

from __future__ import annotations

import itertools
import random
from typing import Any

from django.contrib.auth.models import Permission


def grant_handling(user: Any) -> None:
    """Give ``user`` the 办理办件 permission (``applications.handle_application``), which the
    workbench pages and the internal API both require."""
    user.user_permissions.add(Permission.objects.get(content_type__app_label="applications",
                                                     codename="handle_application"))


def forget_process_caches() -> None:
    """Drop what this process keeps of service versions (keyed by a primary key that a
    rolled-back test may reuse for another version)."""
    from yiwang.industry.applications import integration

    integration.forget_versions()


# --- 好差评: decided applications to evaluate, departments and their officials --------------

EVALUATION_DEPARTMENTS = {"gaj": "示例市公安局", "scjg": "示例市市场监督管理局"}
_numbers = itertools.count(1)
_rng = random.Random(20261201)  # noqa: S311 - synthetic test identifiers


def make_evaluation_city() -> dict[str, Any]:
    """The city's regions, the police (``gaj``) and market regulation (``scjg``) with an
    official each who handles applications (``gaj`` and ``scjg``), a citizen (李小明) and
    another (王小红)."""
    from django.contrib.auth import get_user_model

    from yiwang.core.identifiers.service import generate_credit_code
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions import testing as regions_testing
    from yiwang.support.identity import service as identity

    regions_testing.make_chain(geometry=False)
    people: dict[str, Any] = {}
    for code, name in EVALUATION_DEPARTMENTS.items():
        orgs.create_department(code, name, region_code=regions_testing.CITY,
                               credit_code=generate_credit_code("339900", rng=_rng))
        user = identity.create_official(f"{code}.evaluations", f"{name}办事员",
                                        password="evaluations-officer-1")  # noqa: S106
        orgs.add_member(user, department_code=code)
        grant_handling(user)
        people[code] = get_user_model().objects.get(pk=user.pk)
    for key, username, name in (("citizen", "eval.citizen", "李小明"),
                                ("other", "eval.other", "王小红")):
        user = get_user_model().objects.create_user(username=username, password="x" * 20)
        user.account_type = "citizen"
        user.display_name = user.real_name = name
        user.save()
        people[key] = user
    return people


def decided_application(applicant: Any, *, department: str = "gaj",
                        matter_code: str = "339900-gaj-0001",
                        matter_name: str = "无犯罪记录证明",
                        state: str = "approved") -> Any:
    """A decided application of ``applicant`` (its row only: no form, flow or licence),
    ready for :func:`service.evaluate_application`."""
    from django.utils import timezone

    from yiwang.industry.applications.common import masked_applicant
    from yiwang.industry.applications.models import Application

    now = timezone.now()
    return Application.objects.create(
        number=f"T{now:%Y%m%d}{next(_numbers):06d}", matter_code=matter_code,
        matter_name=matter_name, version_pk=1, applicant=applicant, state=state,
        department_code=department, applicant_masked=masked_applicant(applicant),
        submitted_at=now, accepted_at=now, decided_at=now)


def evaluated(people: dict[str, Any], score: int, *, department: str = "gaj",
              matter: tuple[str, str] = ("339900-gaj-0001", "无犯罪记录证明"),
              who: str = "citizen", comment: str = "") -> Any:
    """A decided application of ``people[who]`` (see :func:`make_evaluation_city`) of
    ``matter`` (code, name) at ``department``, rated ``score`` by them."""
    from yiwang.industry.applications import service as applications

    app = decided_application(people[who], department=department, matter_code=matter[0],
                              matter_name=matter[1])
    return applications.evaluate_application(people[who], app, score=score, comment=comment)
