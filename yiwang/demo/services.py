"""Demo catalogue (政务服务事项) of 示例市: life events, ~30 matters across the departments
and five online services with their form, approval flow, fees and licence — all data files in
``yiwang/demo/packs/`` loaded through ``services.service.import_definition`` (the same path an
administrator's pack import takes), plus the bundle 出生一件事.

Idempotent: a pack whose content equals what is live changes nothing. A matter of a
department the demo does not have (e.g. 民政局 before ``load_licence_departments``) is
skipped. Run after ``load_licence_departments`` (licence types and 民政局) and
``load_officials``; officials heading a department (局长/主任, 副职, 科长) join the group
服务事项管理员 (edit and publish their department's matters).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction

from yiwang.industry.services import service
from yiwang.platform.orgs import service as orgs

Progress = Callable[[str, int], Callable[[int], None]]

PACKS = Path(__file__).resolve().parent / "packs"
EDITORS = "服务事项管理员"
EDITOR_PERMISSIONS = ("services.change_matter", "services.publish_matter")
EDITOR_POSITIONS = ("head", "deputy", "section_chief")


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def pack_files() -> tuple[list[Path], list[Path]]:
    """The matter packs and the bundle packs, in file-name order."""
    files = sorted(PACKS.glob("*.json"))
    bundles = [f for f in files if f.name.startswith("bundle-")]
    matters = [f for f in files if f not in bundles and f.name != "life-events.json"]
    return matters, bundles


@transaction.atomic
def _editors() -> int:
    group, _created = Group.objects.get_or_create(name=EDITORS)
    for dotted in EDITOR_PERMISSIONS:
        app_label, codename = dotted.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                     codename=codename))
    count = 0
    for department in orgs.list_departments():
        for membership in orgs.members_of(department):
            if membership.position and membership.position.code in EDITOR_POSITIONS:
                group.user_set.add(membership.user)
                count += 1
    return count


def load_services(progress: Progress) -> dict[str, int]:
    """Load the demo catalogue; returns counts of matters, skipped matters and bundles."""
    matters, bundles = pack_files()
    tick = progress("服务事项 service catalogue", len(matters) + len(bundles) + 2)
    for event in _read(PACKS / "life-events.json")["life_events"]:
        if service.get_life_event(event["code"]) is None:
            service.ensure_life_event(**event)
    tick(1)
    loaded = skipped = 0
    for path in matters:
        pack = _read(path)
        if orgs.get_department(pack["matter"]["department"]) is None:
            skipped += 1
        else:
            try:
                service.import_definition(pack)
            except ValidationError as exc:
                if exc.code != "draft_exists":
                    raise
                # Someone is editing a draft of this matter on this demo instance: their
                # work is kept, the matter keeps its live version until they publish.
                skipped += 1
            else:
                loaded += 1
        tick(1)
    for path in bundles:
        service.import_definition(_read(path))
        tick(1)
    _editors()
    tick(1)
    return {"matters": loaded, "skipped": skipped, "bundles": len(bundles)}
