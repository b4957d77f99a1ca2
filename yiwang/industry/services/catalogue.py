"""The catalogue (事项目录): life events, matters and their guides, search and who may edit."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from yiwang.core.audit import service as audit
from yiwang.industry.services.common import PAGE_SIZE, check_code, error
from yiwang.industry.services.models import (
    Audience,
    LifeEvent,
    Matter,
    MatterKind,
    OnlineLevel,
)
from yiwang.platform.orgs import service as orgs

# Guide fields an editor may change with update_guide (the code and department stay).
GUIDE_FIELDS = (
    "name", "name_en", "kind", "audience", "keywords", "online_level", "summary", "summary_en",
    "legal_basis", "conditions", "materials", "process", "fee_description", "statutory_days",
    "promised_days", "visits", "channels", "consult_phone", "complaint_phone", "faq",
)
LIST_LABELS = {"faq": _lazy("常见问题"), "process": _lazy("办理流程"),
               "legal_basis": _lazy("设定依据"), "channels": _lazy("办理地点和渠道")}
MATERIAL_FORMS = ("paper", "electronic", "both")
CHANNEL_KINDS = ("online", "window", "mobile", "self_service")


# --- who may edit -------------------------------------------------------------------

def may_edit(user: Any, matter: Matter | str) -> bool:
    """Whether ``user`` may edit the matter's guide and versions: ``services.change_matter``
    and membership of the matter's department (``matter`` may be a department code)."""
    department = matter if isinstance(matter, str) else matter.department_code
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_superuser", False):
        return True
    return bool(user.has_perm("services.change_matter")
                and orgs.is_member(user, department))


def may_publish(user: Any, matter: Matter | str) -> bool:
    """Whether ``user`` may publish and withdraw the matter: ``services.publish_matter`` and
    membership of the matter's department."""
    department = matter if isinstance(matter, str) else matter.department_code
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_superuser", False):
        return True
    return bool(user.has_perm("services.publish_matter")
                and orgs.is_member(user, department))


def editable_departments(user: Any) -> list[str]:
    """Department codes whose matters ``user`` may edit (all for a superuser: ``["*"]``)."""
    if getattr(user, "is_superuser", False):
        return ["*"]
    if not user.has_perm("services.change_matter"):
        return []
    return [d.code for d in orgs.departments_of(user)]


def _require_edit(user: Any, matter: Matter | str) -> None:
    if user is not None and not may_edit(user, matter):
        raise error(_("您无权编辑本部门以外的事项。"), "not_allowed")


# --- life events ----------------------------------------------------------------------

def life_events(audience: str | None = None) -> QuerySet[LifeEvent]:
    """The life events (主题) of ``audience`` (``person``/``legal``), or all, in order."""
    events = LifeEvent.objects.all()
    if audience:
        events = events.filter(audience=audience)
    return events


def get_life_event(code: str) -> LifeEvent | None:
    return LifeEvent.objects.filter(code=code).first()


@transaction.atomic
def ensure_life_event(*, code: str, name: str, audience: str, name_en: str = "",
                      order: int = 0) -> LifeEvent:
    """Create the life event, or update its names and order (idempotent)."""
    if audience not in Audience.values:
        raise error(_("服务对象必须是个人或法人。"), "audience")
    event, _created = LifeEvent.objects.update_or_create(
        code=code, defaults={"name": name, "name_en": name_en, "audience": audience,
                             "order": order})
    return event


# --- matters ----------------------------------------------------------------------------

def get_matter(code: str) -> Matter | None:
    """The matter with this code (published or not), or None."""
    return Matter.objects.filter(code=code).first()


def list_matters(*, q: str = "", life_event: str = "", department: str = "",
                 audience: str = "", page: int | str = 1, published_only: bool = True,
                 departments: Iterable[str] | None = None, per_page: int = PAGE_SIZE) -> Page:
    """One page of matters matching the filters, by code.

    ``q`` searches the name, English name, keywords, summary and code (a plain database
    search; the unified search is issue 7). ``departments`` limits to those codes (the
    workbench list of an official); ``published_only=False`` includes unpublished ones.
    """
    matters = Matter.objects.all()
    if published_only:
        matters = matters.filter(published=True)
    for word in (q or "").split()[:5]:
        matters = matters.filter(Q(name__icontains=word) | Q(name_en__icontains=word)
                                 | Q(keywords__icontains=word) | Q(summary__icontains=word)
                                 | Q(code__icontains=word))
    if life_event:
        matters = matters.filter(life_events__code=life_event)
    if department:
        matters = matters.filter(department_code=department)
    if audience:
        matters = matters.filter(audience=audience)
    if departments is not None and "*" not in departments:
        matters = matters.filter(department_code__in=list(departments))
    matters = matters.prefetch_related("life_events").distinct().order_by("code")
    return Paginator(matters, per_page).get_page(page)


def matter_departments(*, published_only: bool = True) -> list[tuple[str, str, int]]:
    """``(code, name, count)`` of the departments that have (published) matters."""
    from django.db.models import Count

    matters = Matter.objects.all()
    if published_only:
        matters = matters.filter(published=True)
    counts = dict(matters.values_list("department_code").annotate(n=Count("id"))
                  .values_list("department_code", "n"))
    names = {d.code: d.name for d in orgs.list_departments(include_inactive=True)
             .filter(code__in=list(counts))}
    return [(code, names.get(code, code), count) for code, count in sorted(counts.items())]


def department_name(code: str) -> str:
    department = orgs.get_department(code)
    return department.name if department else code


def _clean_guide(values: dict[str, Any]) -> dict[str, Any]:
    """Check the guide fields; raise one ValidationError naming each problem."""
    problems: dict[str, list[str]] = {}

    def bad(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    if "name" in values and not str(values["name"] or "").strip():
        bad("name", _("请填写事项名称。"))
    if "kind" in values and values["kind"] not in MatterKind.values:
        bad("kind", _("事项类型不在目录中。"))
    if "audience" in values and values["audience"] not in Audience.values:
        bad("audience", _("服务对象必须是个人或法人。"))
    if "online_level" in values:
        try:
            values["online_level"] = int(values["online_level"])
        except (TypeError, ValueError):
            values["online_level"] = -1
        if values["online_level"] not in OnlineLevel.values:
            bad("online_level", _("网上办理深度不在可选范围内。"))
    for field in ("statutory_days", "promised_days", "visits"):
        if field in values and values[field] not in (None, ""):
            try:
                values[field] = int(values[field])
                if not 0 <= values[field] <= 3650:
                    raise ValueError
            except (TypeError, ValueError):
                bad(field, _("请填写0到3650之间的整数(工作日)。"))
        elif field in values:
            values[field] = 0 if field == "visits" else None
    statutory, promised = values.get("statutory_days"), values.get("promised_days")
    if isinstance(statutory, int) and isinstance(promised, int) and promised > statutory:
        bad("promised_days", _("承诺办结时限不能超过法定办结时限。"))
    materials = values.get("materials")
    if materials is not None:
        if not isinstance(materials, list):
            bad("materials", _("申请材料必须是列表。"))
        else:
            seen: set[str] = set()
            for number, material in enumerate(materials, start=1):
                if not isinstance(material, dict) or not str(material.get("name", "")).strip():
                    bad("materials", _("第%(n)d项材料缺少名称。") % {"n": number})
                    continue
                code = str(material.get("code") or "").strip()
                if not code:
                    bad("materials", _("第%(n)d项材料缺少编码。") % {"n": number})
                elif code in seen:
                    bad("materials", _("材料编码“%(code)s”重复。") % {"code": code})
                seen.add(code)
                if material.get("form", "both") not in MATERIAL_FORMS:
                    bad("materials", _("第%(n)d项材料的形式只能是纸质、电子或两者。")
                        % {"n": number})
                if not isinstance(material.get("licence_types", []), list):
                    bad("materials", _("第%(n)d项材料的可替代证照必须是列表。") % {"n": number})
                else:
                    from yiwang.support.licences import service as licences

                    for type_code in material.get("licence_types", []):
                        if licences.get_type(str(type_code)) is None:
                            bad("materials", _("证照类型“%(code)s”不存在。")
                                % {"code": type_code})
    for field, keys in (("faq", ("q", "a")), ("process", ("name",)), ("legal_basis", ("title",)),
                        ("channels", ("name",))):
        items = values.get(field)
        if items is None:
            continue
        if not isinstance(items, list) or not all(
                isinstance(item, dict) and all(str(item.get(k, "")).strip() for k in keys)
                for item in items):
            bad(field, _("“%(field)s”的每一项都要填写完整。")
                % {"field": LIST_LABELS[field]})
    for channel in values.get("channels") or []:
        if isinstance(channel, dict) and channel.get("kind", "window") not in CHANNEL_KINDS:
            bad("channels", _("办理渠道类型不在可选范围内。"))
    if problems:
        from django.core.exceptions import ValidationError

        raise ValidationError(problems)
    return values


@transaction.atomic
def create_matter(*, code: str, name: str, department_code: str, audience: str,
                  actor: Any = None, life_event_codes: Iterable[str] = (),
                  **guide: Any) -> Matter:
    """Create an (unpublished) matter of ``department_code`` with its guide fields.

    ``actor`` None means a system load (the demo); otherwise the actor must be allowed to
    edit the department's matters."""
    code = check_code(code, _("事项编码"))
    if Matter.objects.filter(code=code).exists():
        raise error(_("事项编码“%(code)s”已被使用。"), "code_taken", code=code)
    if orgs.get_department(department_code) is None:
        raise error(_("部门“%(code)s”不存在。"), "department", code=department_code)
    _require_edit(actor, department_code)
    unknown = set(guide) - set(GUIDE_FIELDS)
    if unknown:
        raise error(_("未知的指南字段:%(fields)s。"), "fields", fields=", ".join(sorted(unknown)))
    values = _clean_guide({"name": name, "audience": audience, **guide})
    matter = Matter.objects.create(code=code, department_code=department_code, **values)
    _set_life_events(matter, life_event_codes)
    audit.record("services.matter_created", matter, actor=actor,
                 detail={"code": code, "department": department_code})
    return matter


def _set_life_events(matter: Matter, codes: Iterable[str]) -> None:
    codes = list(codes)
    events = list(LifeEvent.objects.filter(code__in=codes))
    missing = set(codes) - {e.code for e in events}
    if missing:
        raise error(_("主题“%(codes)s”不存在。"), "life_event", codes=", ".join(sorted(missing)))
    matter.life_events.set(events)


@transaction.atomic
def update_guide(matter: Matter, *, actor: Any = None,
                 life_event_codes: Iterable[str] | None = None, **guide: Any) -> Matter:
    """Change the guide fields of ``matter`` (only those given). A published guide changes
    at once: the guide is information, the version is what applications run on."""
    _require_edit(actor, matter)
    unknown = set(guide) - set(GUIDE_FIELDS)
    if unknown:
        raise error(_("未知的指南字段:%(fields)s。"), "fields", fields=", ".join(sorted(unknown)))
    values = _clean_guide(dict(guide))
    if ("statutory_days" in values) != ("promised_days" in values):
        statutory = values.get("statutory_days", matter.statutory_days)
        promised = values.get("promised_days", matter.promised_days)
        if statutory is not None and promised is not None and promised > statutory:
            raise error(_("承诺办结时限不能超过法定办结时限。"), "days")
    for field, value in values.items():
        setattr(matter, field, value)
    matter.save()
    if life_event_codes is not None:
        _set_life_events(matter, life_event_codes)
    audit.record("services.guide_updated", matter, actor=actor,
                 detail={"code": matter.code, "fields": sorted(values)})
    return matter
