"""Bundles (一件事一次办): several matters applied for at once with one form.

The bundle's own form collects the data once; each member matter gets the bundle data
projected onto its own form keys through the member's ``map`` (``{member key: bundle key or
JSON Logic}``). Editing changes the bundle's working fields; ``publish_bundle`` freezes them in
``snapshot``. Members run on their own published version at the time of application, so a
member department can publish a new version without republishing every bundle; the
projection keeps only the keys the member's live form has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.enablement.forms import service as forms
from yiwang.industry.services.catalogue import may_publish
from yiwang.industry.services.common import check_code, error, form_keys, logic_vars, lookup
from yiwang.industry.services.models import Audience, Bundle, LifeEvent, Matter, ServiceVersion
from yiwang.industry.services.versions import latest_draft, published_version


@dataclass(frozen=True)
class BundleMember:
    matter_code: str
    matter_name: str
    version: ServiceVersion
    map: dict[str, Any]


@dataclass(frozen=True)
class PublishedBundle:
    """A published bundle as applications use it (from the snapshot, members resolved to
    their live versions)."""

    code: str
    name: str
    name_en: str
    department_code: str
    form: dict[str, Any]
    members: tuple[BundleMember, ...]
    shared_materials: tuple[str, ...]
    promised_days: int | None


def get_bundle(code: str) -> Bundle | None:
    """The bundle with this code (published or not), or None."""
    return Bundle.objects.select_related("life_event").filter(code=code).first()


def list_bundles(*, published_only: bool = True, life_event: str = "") -> QuerySet[Bundle]:
    bundles = Bundle.objects.select_related("life_event")
    if published_only:
        bundles = bundles.filter(published=True)
    if life_event:
        bundles = bundles.filter(life_event__code=life_event)
    return bundles


def published_bundle(code: str) -> PublishedBundle | None:
    """The published bundle, or None when it is not published or a member has no live
    version (the bundle cannot be applied for then)."""
    bundle = Bundle.objects.filter(code=code, published=True).first()
    if bundle is None or not bundle.snapshot:
        return None
    snap = bundle.snapshot
    members = []
    for member in snap.get("members", []):
        version = published_version(member["matter"])
        if version is None:
            return None
        members.append(BundleMember(member["matter"], version.matter.name, version,
                                    dict(member.get("map") or {})))
    return PublishedBundle(code=bundle.code, name=snap.get("name", bundle.name),
                           name_en=snap.get("name_en", bundle.name_en),
                           department_code=bundle.department_code, form=snap.get("form", {}),
                           members=tuple(members),
                           shared_materials=tuple(snap.get("shared_materials", [])),
                           promised_days=snap.get("promised_days"))


def project_member_data(member: BundleMember, data: dict[str, Any]) -> dict[str, Any]:
    """The bundle data seen by one member: its map applied, only keys of its live form."""
    keys = form_keys(member.version.form)
    projected: dict[str, Any] = {}
    for target, source in member.map.items():
        if target not in keys:
            continue
        value = lookup(data, source) if isinstance(source, str) else forms.evaluate(source, data)
        if value is not None:
            projected[target] = value
    return projected


def _required_keys(components: list[Any]) -> set[str]:
    """The keys a submission of the form must always have: required fields without a
    condition, outside conditional sections."""
    found: set[str] = set()
    for component in components or []:
        if not isinstance(component, dict) or component.get("conditional"):
            continue
        if component.get("type") == "section":
            found |= _required_keys(component.get("components") or [])
        elif component.get("required") and component.get("key"):
            found.add(str(component["key"]))
    return found


def member_problems(matter_code: str, mapping: dict[str, Any], form: dict[str, Any], *,
                    required: bool = True, targets: bool = True,
                    also_keys: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """What keeps a bundle member's map from filling the member's form ``form``: (with
    ``targets``) a target neither the form nor ``also_keys`` has, and (with ``required``) a
    required field nothing maps to (review M11)."""
    keys = form_keys(form) | set(also_keys)
    problems = [_("事项“%(code)s”的表单没有字段“%(key)s”,一件事的映射无法填写它。")
                % {"code": matter_code, "key": target}
                for target in mapping if targets and target not in keys]
    if required:
        problems += [_("事项“%(code)s”的必填字段“%(key)s”没有从一件事表单映射。")
                     % {"code": matter_code, "key": key}
                     for key in sorted(_required_keys((form or {}).get("components") or []))
                     if key not in mapping]
    return problems


def _published_members(matter_code: str) -> list[tuple[Bundle, dict[str, Any]]]:
    found = []
    for bundle in Bundle.objects.filter(published=True).order_by("code"):
        for member in (bundle.snapshot or {}).get("members", []):
            if member.get("matter") == matter_code:
                found.append((bundle, dict(member.get("map") or {})))
    return found


def _about(bundle: Bundle, problem: str) -> str:
    return (_("一件事“%(bundle)s”(%(department)s):%(problem)s")
            % {"bundle": bundle.name, "department": bundle.department_code, "problem": problem})


def bundles_broken_by(matter_code: str, form: dict[str, Any]) -> list[str]:
    """Problems the form of a new version of ``matter_code`` would cause the published
    bundles it is a member of, one message per problem naming the bundle: a required field
    of the new form that a bundle's map does not fill (review M14: a target the new form no
    longer has is only a warning, see ``bundle_map_warnings``)."""
    return [_about(bundle, problem)
            for bundle, mapping in _published_members(matter_code)
            for problem in member_problems(matter_code, mapping, form, targets=False)]


def bundle_map_warnings(matter_code: str, form: dict[str, Any]) -> list[str]:
    """Targets of published bundles' maps that ``form`` (a version of ``matter_code``) does
    not have: they are dropped when the bundle applies (``project_member_data``)."""
    return [_about(bundle, problem)
            for bundle, mapping in _published_members(matter_code)
            for problem in member_problems(matter_code, mapping, form, required=False)]


def bundle_warnings(bundle: Bundle) -> list[str]:
    """Targets of the bundle's maps that neither the member's live version nor its draft
    has (a live version's are dropped when the bundle applies), for the bundle editor."""
    out = []
    for member in bundle.members or []:
        if not isinstance(member, dict):
            continue
        live = published_version(str(member.get("matter") or ""))
        if live is not None:
            draft = latest_draft(live.matter)
            out += member_problems(
                live.matter.code, dict(member.get("map") or {}), live.form, required=False,
                also_keys=form_keys(draft.form) if draft is not None else frozenset())
    return out


def check_bundle(*, form: Any, members: Any, shared_materials: Any = ()) -> dict[str, Any]:
    """Validate a bundle's form, members and maps; return them normalised."""
    problems: dict[str, list[str]] = {}
    try:
        clean_form = forms.check_definition(form)
    except ValidationError as exc:
        problems["form"] = [str(m) for m in exc.messages]
        clean_form = form if isinstance(form, dict) else {}
    keys = form_keys(clean_form)
    if not isinstance(members, list) or len(members) < 2:
        problems.setdefault("members", []).append(_("一件事至少包含两个事项。"))
        members = members if isinstance(members, list) else []
    clean_members = []
    seen: set[str] = set()
    for number, member in enumerate(members, start=1):
        if not isinstance(member, dict) or not isinstance(member.get("map", {}), dict):
            problems.setdefault("members", []).append(
                _("第%(n)d个成员事项必须是 {\"matter\": 事项编码, \"map\": {…}} 形式的对象。")
                % {"n": number})
            continue
        code = str(member.get("matter") or "")
        if code in seen:
            problems.setdefault("members", []).append(_("事项“%(code)s”重复。") % {"code": code})
        seen.add(code)
        if not Matter.objects.filter(code=code).exists():
            problems.setdefault("members", []).append(_("事项“%(code)s”不存在。") % {"code": code})
            continue
        mapping = member.get("map") or {}
        for target, source in mapping.items():
            used = {source.split(".")[0]} if isinstance(source, str) else {
                v.split(".")[0] for v in logic_vars(source)}
            if used - keys:
                problems.setdefault("members", []).append(
                    _("事项“%(code)s”的字段“%(key)s”引用了一件事表单中没有的字段。")
                    % {"code": code, "key": target})
        live = published_version(code)
        if live is not None:
            # Required fields left unmapped are the workbench's to report before publication.
            # A target may be a field of the live version or of the member's current draft,
            # so a renamed field can be mapped under both names before the member publishes
            # (review M14).
            draft = latest_draft(live.matter)
            problems_of_member = member_problems(
                code, mapping, live.form, required=False,
                also_keys=form_keys(draft.form) if draft is not None else frozenset())
            if problems_of_member:
                problems.setdefault("members", []).extend(problems_of_member)
        clean_members.append({"matter": code, "map": dict(mapping)})
    if problems:
        raise ValidationError(problems)
    return {"form": clean_form, "members": clean_members,
            "shared_materials": [str(c) for c in shared_materials or []]}


@transaction.atomic
def save_bundle(*, code: str, name: str, department_code: str, form: Any, members: Any,
                name_en: str = "", life_event: str = "", audience: str = Audience.PERSON,
                summary: str = "", summary_en: str = "", shared_materials: Any = (),
                promised_days: int | None = None, actor: Any = None) -> Bundle:
    """Create or update a bundle's working fields (the published snapshot is unchanged).

    An existing bundle stays with its department: the actor must manage *its* department,
    and a pack cannot move it to another (review H1: an import naming another department
    took the bundle over)."""
    code = check_code(code, _("一件事编码"))
    if actor is not None and not may_publish(actor, department_code):
        raise error(_("您无权管理本部门以外的一件事。"), "not_allowed")
    existing = Bundle.objects.select_for_update().filter(code=code).first()
    if existing is not None:
        if actor is not None and not may_publish(actor, existing.department_code):
            raise error(_("您无权管理本部门以外的一件事。"), "not_allowed")
        if existing.department_code != department_code:
            raise error(_("一件事“%(code)s”已属于其他部门,不能改变牵头部门。"), "department",
                        code=code)
    clean = check_bundle(form=form, members=members, shared_materials=shared_materials)
    event = LifeEvent.objects.filter(code=life_event).first() if life_event else None
    bundle, _created = Bundle.objects.update_or_create(code=code, defaults={
        "name": name, "name_en": name_en, "department_code": department_code,
        "life_event": event, "audience": audience, "summary": summary,
        "summary_en": summary_en, "promised_days": promised_days, **clean})
    audit.record("services.bundle_saved", bundle, actor=actor, detail={"code": code})
    return bundle


@transaction.atomic
def publish_bundle(bundle: Bundle, actor: Any = None) -> Bundle:
    """Freeze the bundle's working fields into its published snapshot; every member must
    have a live version."""
    if actor is not None and not may_publish(actor, bundle.department_code):
        raise error(_("您无权管理本部门以外的一件事。"), "not_allowed")
    clean = check_bundle(form=bundle.form, members=bundle.members,
                         shared_materials=bundle.shared_materials)
    missing = [m["matter"] for m in clean["members"] if published_version(m["matter"]) is None]
    if missing:
        raise error(_("以下事项还没有发布的版本:%(codes)s。"), "members_unpublished",
                    codes=", ".join(missing))
    bundle.snapshot = {"name": bundle.name, "name_en": bundle.name_en,
                       "promised_days": bundle.promised_days, **clean}
    bundle.published = True
    bundle.published_at = timezone.now()
    bundle.save()
    audit.record("services.bundle_published", bundle, actor=actor, detail={"code": bundle.code})
    return bundle


@transaction.atomic
def unpublish_bundle(bundle: Bundle, actor: Any = None) -> Bundle:
    if actor is not None and not may_publish(actor, bundle.department_code):
        raise error(_("您无权管理本部门以外的一件事。"), "not_allowed")
    bundle.published = False
    bundle.save(update_fields=["published", "updated_at"])
    audit.record("services.bundle_unpublished", bundle, actor=actor, detail={"code": bundle.code})
    return bundle
