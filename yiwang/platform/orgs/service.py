"""Public facade of the orgs app: departments (部门), positions (岗位), officials'
memberships (任职), matter categories (事项类别) and responsibilities (职责分工).

Other apps import this module only. Read functions return model instances for read-only
use; writes go through the verb-named functions below, each one transaction, raising
``ValidationError`` with Chinese messages for bad input. Regions are looked up through
``yiwang.platform.regions.service``.

Dates: a membership counts on day D when ``started_on <= D < ended_on`` (``ended_on`` is the
first day without it); a responsibility when ``valid_from <= D <= valid_to`` (inclusive).
Missing end dates mean "open".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext

from yiwang.platform.orgs.models import (
    CategoryKind,
    Department,
    DepartmentKind,
    MatterCategory,
    Membership,
    Position,
    Responsibility,
)
from yiwang.platform.regions import service as regions

__all__ = [
    "CategoryKind",
    "Department",
    "DepartmentKind",
    "MatterCategory",
    "Membership",
    "Position",
    "Responsibility",
    "add_member",
    "assign_responsibility",
    "create_category",
    "create_department",
    "create_position",
    "departments_of",
    "end_membership",
    "get_category",
    "get_department",
    "is_member",
    "list_departments",
    "members_of",
    "memberships_of",
    "order_positions",
    "positions_of",
    "positions_reordered",
    "region_of",
    "responsible_for",
    "unit_codes_of",
    "units_below",
]


# Sent (``department=``) when order_positions changes which position leads a department:
# its bulk update sends no post_save, and whoever caches officials' scopes must know.
positions_reordered = Signal()


def _today(on: date | None) -> date:
    return on or timezone.localdate()


def _open_on(day: date) -> Q:
    return Q(started_on__lte=day) & (Q(ended_on__isnull=True) | Q(ended_on__gt=day))


def _valid_on(day: date) -> Q:
    return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gte=day))


def _error(message: str, error_code: str, /, **params: Any) -> ValidationError:
    return ValidationError(message, code=error_code, params=params)


def _region(code: str) -> regions.Region:
    try:
        return regions.get_region(code)
    except regions.Region.DoesNotExist:
        raise _error(gettext("行政区划 %(code)s 不存在"), "no_region", code=code) from None


def _department(department: Department | str) -> Department:
    if isinstance(department, Department):
        return department
    found = get_department(department)
    if found is None:
        raise _error(gettext("部门 %(code)s 不存在"), "no_department", code=department)
    return found


def _position(department: Department, code: str | None) -> Position | None:
    if not code:
        return None
    position = Position.objects.filter(department=department, code=code).first()
    if position is None:
        raise _error(gettext("部门“%(department)s”没有岗位 %(code)s"), "no_position",
                     department=department.name, code=code)
    return position


# --- reads -------------------------------------------------------------------------------

def list_departments(region_code: str | None = None, q: str | None = None, *,
                     include_inactive: bool = False) -> QuerySet[Department]:
    """Departments, ordered by region and code, with region and parent loaded.

    ``region_code`` keeps those of exactly that government (12 digits or a 2/4/6/9-digit
    prefix); ``q`` searches code, name and English name. Inactive departments are left out
    unless ``include_inactive``."""
    qs = Department.objects.select_related("region", "parent")
    if not include_inactive:
        qs = qs.filter(active=True)
    if region_code:
        qs = qs.filter(region_id=regions.normalize_code(region_code))
    if q:
        q = q.strip()
        qs = qs.filter(Q(name__icontains=q) | Q(name_en__icontains=q) | Q(code__icontains=q))
    return qs.order_by("region_id", "code")


def get_department(code: str) -> Department | None:
    """The department with this code (active or not), or None."""
    return Department.objects.select_related("region", "parent").filter(code=code).first()


def region_of(code: str) -> str:
    """The division code of the department with this code ('' when there is none): one
    small query, without the department's related rows."""
    return Department.objects.filter(code=code).values_list("region_id", flat=True).first() or ""


def positions_of(department: Department | str) -> QuerySet[Position]:
    """The positions of a department in their order (``sort_order``: head first; positions
    without one last), then by code."""
    return (Position.objects.filter(department=_department(department))
            .order_by(F("sort_order").asc(nulls_last=True), "code"))


def units_below(department: Department | str, *, depth: int = 5) -> list[str]:
    """The codes of the department's active internal units (科室), at any depth down to
    ``depth`` levels, nearest first."""
    codes: list[str] = []
    parents = {_department(department).pk}
    for _level in range(depth):
        rows = list(Department.objects.filter(parent_id__in=parents, active=True)
                    .values_list("pk", "code"))
        if not rows:
            break
        codes += [code for _pk, code in rows]
        parents = {pk for pk, _code in rows}
    return codes


def members_of(department: Department | str, *, on: date | None = None) -> QuerySet[Membership]:
    """The memberships of a department that count on ``on`` (today), with user and
    position loaded."""
    return (Membership.objects.filter(_open_on(_today(on)), department=_department(department))
            .select_related("user", "position")
            .order_by(F("position__sort_order").asc(nulls_last=True), "position__code",
                      "started_on", "id"))


def memberships_of(user: Any, *, on: date | None = None,
                   include_ended: bool = False) -> QuerySet[Membership]:
    """A user's memberships that count on ``on`` (all of them with ``include_ended``),
    primary first, with department and position loaded."""
    qs = Membership.objects.filter(user=user)
    if not include_ended:
        qs = qs.filter(_open_on(_today(on)))
    return (qs.select_related("department", "department__region", "position")
            .order_by("-is_primary", "started_on", "id"))


def departments_of(user: Any, *, on: date | None = None) -> list[Department]:
    """The departments a user belongs to on ``on`` (today), primary first, no repeats."""
    seen: dict[int, Department] = {}
    for membership in memberships_of(user, on=on):
        seen.setdefault(membership.department_id, membership.department)
    return list(seen.values())


def unit_codes_of(user: Any) -> list[str]:
    """The codes of the departments ``user`` belongs to and of those departments' internal
    units: what an official answers for (their own first, no repeats)."""
    codes: dict[str, None] = {}
    for department in departments_of(user):
        codes.setdefault(department.code)
        for code in units_below(department):
            codes.setdefault(code)
    return list(codes)


def is_member(user: Any, department_code: str, *, on: date | None = None,
              include_units: bool = True) -> bool:
    """Whether the user belongs to the department on ``on`` (today). With
    ``include_units`` (the default) a member of one of its internal units (科室), at any
    depth, is a member too."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    # One query answers the usual case (a member of the department itself) and gives the
    # parents to climb from otherwise.
    rows = list(Membership.objects.filter(_open_on(_today(on)), user=user)
                .values_list("department__code", "department__parent_id"))
    if any(code == department_code for code, _ in rows):
        return True
    if not include_units:
        return False
    # Climb from the user's departments to their parents (a few levels at most).
    seen: set[int] = set()
    ids = {parent for _, parent in rows if parent is not None}
    while ids:
        found = list(Department.objects.filter(pk__in=ids).values_list("code", "parent_id"))
        if any(code == department_code for code, _ in found):
            return True
        seen |= ids
        ids = {parent for _, parent in found if parent is not None and parent not in seen}
    return False


def get_category(code: str) -> MatterCategory | None:
    """The matter category with this code, or None."""
    return MatterCategory.objects.filter(code=code).first()


def responsible_for(region_code: str, category_code: str | None = None, *,
                    on: date | None = None) -> list[Responsibility]:
    """Who answers for matters of ``category_code`` in ``region_code`` on ``on`` (today).

    Candidates are the valid responsibilities of active departments whose region is the
    region or one of its ancestors, and whose category is the category, one of its
    ancestors, or "all categories" (None). The most specific wins, category first:

    1. the deepest category (a subcategory beats its parent; any category beats "all");
    2. among those, the deepest region (a street's assignment beats its district's).

    Competence (which kind of matter) thus comes before territory: a district's assignment
    for 占道经营 beats a street's catch-all one. Every responsibility tied at the winning
    (category, region) pair is returned — joint responsibility — ordered by department and
    position code. Empty if nobody answers.
    """
    region = _region(region_code)
    region_depth = {r.code: r.depth for r in regions.ancestors(region)}
    region_depth[region.code] = region.depth
    category_depth: dict[int | None, int] = {None: -1}
    lineage: list[str] = []
    if category_code is not None:
        category = get_category(category_code)
        if category is None:
            raise _error(gettext("事项类别 %(code)s 不存在"), "no_category", code=category_code)
        lineage = category.lineage
    categories = MatterCategory.objects.filter(code__in=lineage).values_list("pk", "depth")
    category_depth.update(dict(categories))
    candidates = list(
        Responsibility.objects.filter(_valid_on(_today(on)), region_id__in=region_depth,
                                      department__active=True)
        .filter(Q(category__isnull=True) | Q(category_id__in=[k for k in category_depth if k]))
        .select_related("department", "position", "region", "category")
    )
    if not candidates:
        return []

    def rank(r: Responsibility) -> tuple[int, int]:
        return category_depth[r.category_id], region_depth[r.region_id]

    best = max(rank(r) for r in candidates)
    winners = [r for r in candidates if rank(r) == best]
    return sorted(winners, key=lambda r: (r.department.code, r.position.code if r.position
                                          else ""))


# --- writes ------------------------------------------------------------------------------

@transaction.atomic
def create_department(
    code: str,
    name: str,
    *,
    region_code: str,
    credit_code: str = "",
    kind: str = DepartmentKind.GOVERNMENT,
    parent_code: str | None = None,
    name_en: str = "",
    phone: str = "",
    address: str = "",
    description: str = "",
    active: bool = True,
) -> Department:
    """Create a department of the government of ``region_code``, or an internal unit of
    ``parent_code`` (whose region must contain the unit's). ``credit_code`` is checked
    against GB 32100 (check characters included) and must be unique."""
    region = _region(region_code)
    parent = _department(parent_code) if parent_code else None
    department = Department(
        code=code, name=name, name_en=name_en, credit_code=(credit_code or "").strip().upper(),
        region=region, parent=parent, kind=kind, phone=phone, address=address,
        description=description, active=active,
    )
    department.full_clean()
    department.save()
    return department


@transaction.atomic
def create_position(department: Department | str, code: str, name: str, *,
                    rank: str = "", sort_order: int | None = None) -> Position:
    """Create a position in a department (given as instance or code). ``rank`` is its
    grade (职级, e.g. 正科级); ``sort_order`` its place in the department's list (None:
    after the ordered ones)."""
    position = Position(department=_department(department), code=code, name=name, rank=rank,
                        sort_order=sort_order)
    position.full_clean(exclude=["region_code"])
    position.save()
    return position


@transaction.atomic
def order_positions(department: Department | str, codes: Sequence[str]) -> int:
    """Put a department's positions in the order of ``codes`` (``sort_order`` 1, 2, 3…);
    positions not listed keep theirs. Idempotent: only the positions whose order changes
    are written; returns how many. Refuses unknown codes and repeats, changing nothing."""
    found = _department(department)
    if len(set(codes)) != len(codes):
        raise _error(gettext("岗位代码重复"), "duplicate_position")
    positions = {p.code: p for p in Position.objects.select_for_update()
                 .filter(department=found, code__in=codes)}
    for code in codes:
        if code not in positions:
            raise _error(gettext("部门“%(department)s”没有岗位 %(code)s"), "no_position",
                         department=found.name, code=code)
    changed = []
    for number, code in enumerate(codes, start=1):
        position = positions[code]
        if position.sort_order != number:
            position.sort_order = number
            changed.append(position)
    Position.objects.bulk_update(changed, ["sort_order"])
    if changed:
        positions_reordered.send(sender=Position, department=found)
    return len(changed)


@transaction.atomic
def add_member(user: Any, department_code: str, *, position_code: str | None = None,
               primary: bool = False, started_on: date | None = None) -> Membership:
    """Appoint a user to a department (and one of its positions) from ``started_on``
    (today). Refuses an inactive account or department, a second open membership for the
    same post, and a second open primary membership."""
    if user is None or user.pk is None:
        raise _error(gettext("人员不存在"), "no_user")
    user = get_user_model().objects.select_for_update().get(pk=user.pk)  # serialise per user
    if not user.is_active:
        raise _error(gettext("账户 %(user)s 已停用"), "inactive_user", user=str(user))
    department = _department(department_code)
    if not department.active:
        raise _error(gettext("部门“%(name)s”已停用"), "inactive_department",
                     name=department.name)
    position = _position(department, position_code)
    open_memberships = Membership.objects.filter(user=user, ended_on__isnull=True)
    if open_memberships.filter(department=department, position=position).exists():
        raise _error(gettext("%(user)s 已在“%(name)s”任此职"), "duplicate_membership",
                     user=str(user), name=department.name)
    if primary and open_memberships.filter(is_primary=True).exists():
        raise _error(gettext("%(user)s 已有主要任职，请先结束原任职"), "duplicate_primary",
                     user=str(user))
    membership = Membership(user=user, department=department, position=position,
                            is_primary=primary, started_on=started_on or timezone.localdate())
    membership.full_clean(exclude=["region_code"])
    membership.save()
    return membership


@transaction.atomic
def end_membership(membership: Membership | int, *, ended_on: date | None = None) -> Membership:
    """End a membership: from ``ended_on`` (today) it no longer counts."""
    pk = membership.pk if isinstance(membership, Membership) else membership
    found = Membership.objects.select_for_update().select_related("department").filter(
        pk=pk).first()
    if found is None:
        raise _error(gettext("任职记录 %(id)s 不存在"), "no_membership", id=pk)
    if found.ended_on is not None:
        raise _error(gettext("该任职已于 %(day)s 结束"), "already_ended", day=found.ended_on)
    day = ended_on or timezone.localdate()
    if day < found.started_on:
        raise _error(gettext("离任日期 %(day)s 早于任职日期 %(start)s"), "bad_dates",
                     day=day, start=found.started_on)
    found.ended_on = day
    found.save(update_fields=["ended_on", "region_code"])
    return found


@transaction.atomic
def create_category(code: str, name: str, *, parent_code: str | None = None,
                    kind: str | None = None, name_en: str = "") -> MatterCategory:
    """Create a matter category, below ``parent_code`` if given. ``kind`` defaults to the
    parent's (else "other")."""
    parent = None
    if parent_code:
        parent = get_category(parent_code)
        if parent is None:
            raise _error(gettext("上级类别 %(code)s 不存在"), "no_category", code=parent_code)
    category = MatterCategory(
        code=code, name=name, name_en=name_en, parent=parent,
        kind=kind or (parent.kind if parent else CategoryKind.OTHER),
    )
    category.full_clean(exclude=["path", "depth"])
    category.save()
    return category


@transaction.atomic
def assign_responsibility(
    department_code: str,
    region_code: str,
    *,
    category_code: str | None = None,
    position_code: str | None = None,
    valid_from: date | None = None,
    valid_to: date | None = None,
    note: str = "",
) -> Responsibility:
    """Make a department (or one of its positions) answer for ``category_code`` (None:
    every category) in ``region_code`` and below, from ``valid_from`` (today) through
    ``valid_to`` (open). The region must be the department's own or lie within it; the same
    open assignment cannot be made twice."""
    department = _department(department_code)
    region = _region(region_code)
    if not regions.covers(department.region_id, region.code):
        raise _error(gettext("“%(name)s”属于 %(own)s，不能负责其辖区外的 %(code)s"),
                     "outside_region", name=department.name, own=department.region_id,
                     code=region.code)
    position = _position(department, position_code)
    category = None
    if category_code:
        category = get_category(category_code)
        if category is None:
            raise _error(gettext("事项类别 %(code)s 不存在"), "no_category", code=category_code)
    start = valid_from or timezone.localdate()
    if valid_to is not None and valid_to < start:
        raise _error(gettext("失效日期 %(end)s 早于生效日期 %(start)s"), "bad_dates",
                     end=valid_to, start=start)
    overlapping = Responsibility.objects.filter(
        department=department, position=position, region=region, category=category,
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
    if valid_to is not None:
        overlapping = overlapping.filter(valid_from__lte=valid_to)
    if overlapping.exists():
        raise _error(gettext("“%(name)s”在该区域已有相同的职责分工"), "duplicate_responsibility",
                     name=department.name)
    responsibility = Responsibility(department=department, position=position, region=region,
                                    category=category, valid_from=start, valid_to=valid_to,
                                    note=note)
    responsibility.full_clean()
    responsibility.save()
    return responsibility
