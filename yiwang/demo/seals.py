"""Demo electronic seals (电子印章) of 示例市: for each department that issues licences, a
证照专用章 (its key in the vault, its certificate from the region's root CA, a round red
picture) kept by the department's first official, who also becomes its 印章管理员, and a
standing authorisation (长期授权) for each licence type the department issues — so that the
demo's licence PDFs come out sealed.

Idempotent: an active seal of that name is reused; an authorisation is only added when no
live one covers the licence type. The standing authorisations are recorded as made by a
setup step (level 0, ``how: setup`` in the audit log), not as a custodian's multi-factor
authorisation: in a real deployment the custodian gives them on the workbench.

Run after the departments, the trust data (load_trust) and the licence catalogue, and before
the demo licences (load_licences).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from yiwang.platform.orgs import service as orgs
from yiwang.support.seals import service as seals

Progress = Callable[[str, int], Callable[[int], None]]

SEAL_MANAGERS = "印章管理员"
MANAGER_PERMISSIONS = ("seals.manage_seals", "seals.view_seal_uses")
STANDING_DAYS = 365
# The departments that issue the shipped licence types, when the licences app has no
# catalogue loaded yet (its catalogue is the source of truth).
LICENCE_ISSUERS = {
    "scjg": ["business_licence"],
    "wjw": ["birth_certificate"],
    "bdc": ["property_certificate"],
    "rsj": ["social_security_card"],
    "gaj": ["no_criminal_record"],
    "mzj": ["marriage_certificate"],
}


def _licence_issuers() -> dict[str, list[str]]:
    from yiwang.support.licences import service as licences

    found: dict[str, list[str]] = {}
    for ltype in licences.list_types():
        for code in ltype.issuing_departments or []:
            found.setdefault(code, []).append(ltype.code)
    return found or LICENCE_ISSUERS


def _managers_group() -> Any:
    group, _created = Group.objects.get_or_create(name=SEAL_MANAGERS)
    for dotted in MANAGER_PERMISSIONS:
        app_label, codename = dotted.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                     codename=codename))
    return group


def _custodian(department_code: str) -> Any | None:
    for membership in orgs.members_of(department_code):
        if membership.user.is_staff and membership.user.is_active:
            return membership.user
    return None


def load_seals(progress: Progress) -> dict[str, int]:
    """Create the missing demo seals and standing authorisations; returns counts."""
    issuers = {code: types for code, types in _licence_issuers().items()
               if orgs.get_department(code) is not None}
    tick = progress("电子印章 seals", len(issuers))
    group = _managers_group()
    made = authorised = 0
    for code, types in sorted(issuers.items()):
        custodian = _custodian(code)
        if custodian is None:
            tick(1)
            continue
        group.user_set.add(custodian)
        department = orgs.get_department(code)
        assert department is not None
        name = f"{department.name}电子证照专用章"
        seal = seals.seals_of(code).filter(name=name, status=seals.SealStatus.ACTIVE).first()
        if seal is None:
            seal = seals.create_seal(department_code=code, name=name,
                                     kind=seals.SealKind.LICENCE, custodians=[custodian],
                                     actor=None)
            made += 1
        until = min(timezone.now() + timedelta(days=STANDING_DAYS),
                    seal.valid_until - timedelta(minutes=1))
        for type_code in types:
            found = seals.licence_seal_for(code, type_code)
            if found is not None and found[0].pk == seal.pk:
                continue
            seals.grant_standing_authorisation(
                seal, custodian=custodian, purpose=seals.licence_purpose(type_code),
                standing_until=until, actor=None)
            authorised += 1
        tick(1)
    return {"seals": made, "standing_authorisations": authorised}
