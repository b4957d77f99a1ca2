"""The service-pack format (服务包): one JSON file per matter or bundle, so a catalogue
entry with its guide and its service version can move between instances (and the demo
loads its services from files, not Python).

A matter pack::

    {"format": "yiwang.service-pack", "format_version": 1, "kind": "matter",
     "life_events": [{"code", "name", "name_en", "audience", "order"}],
     "matter": {"code", "name", "name_en", "kind", "department", "audience",
                "life_events": [codes], "keywords", "online_level", "summary",
                "summary_en", "published": bool, "guide": {<guide fields>}},
     "version": null | {"number", "state": "published"|"draft", "note", "form",
                        "flow_spec" | "bpmn", "fee_table", "licence"}}

A bundle pack has ``"kind": "bundle"`` and ``"bundle": {"code", "name", "name_en",
"department", "audience", "life_event", "summary", "summary_en", "promised_days", "form",
"members", "shared_materials", "published"}`` (its member matters are imported first).
Importing is idempotent: a version whose content equals the live one is not added again.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.industry.services import bundles, catalogue, checks, versions
from yiwang.industry.services.common import error
from yiwang.industry.services.models import Bundle, LifeEvent, Matter, VersionState

FORMAT = "yiwang.service-pack"
FORMAT_VERSION = 1
VERSION_PARTS = ("form", "flow_spec", "bpmn", "fee_table", "licence")


def _life_event_dict(event: LifeEvent) -> dict[str, Any]:
    return {"code": event.code, "name": event.name, "name_en": event.name_en,
            "audience": event.audience, "order": event.order}


def export_definition(item: Matter | Bundle) -> dict[str, Any]:
    """The service pack of a matter (guide + its published version, else its latest draft)
    or of a bundle, as a JSON-serialisable dict."""
    head = {"format": FORMAT, "format_version": FORMAT_VERSION}
    if isinstance(item, Bundle):
        events = [item.life_event] if item.life_event else []
        return {**head, "kind": "bundle",
                "life_events": [_life_event_dict(e) for e in events],
                "bundle": {"code": item.code, "name": item.name, "name_en": item.name_en,
                           "department": item.department_code, "audience": item.audience,
                           "life_event": item.life_event.code if item.life_event else "",
                           "summary": item.summary, "summary_en": item.summary_en,
                           "promised_days": item.promised_days, "form": item.form,
                           "members": item.members,
                           "shared_materials": item.shared_materials,
                           "published": item.published}}
    matter = item
    events = list(matter.life_events.all())
    version = (versions.published_version(matter.code)
               or versions.versions_of(matter).filter(state=VersionState.DRAFT).first())
    exported_version = None
    if version is not None:
        # Copies: the pack is the caller's to change, the live version is shared (it is kept
        # per process by ``published_version``).
        exported_version = copy.deepcopy({
            "number": version.number, "state": version.state, "note": version.note,
            "form": version.form, "fee_table": version.fee_table, "licence": version.licence})
        if version.flow_spec:
            exported_version["flow_spec"] = copy.deepcopy(version.flow_spec)
        else:
            exported_version["bpmn"] = version.bpmn
    return {**head, "kind": "matter",
            "life_events": [_life_event_dict(e) for e in events],
            "matter": {"code": matter.code, "name": matter.name, "name_en": matter.name_en,
                       "kind": matter.kind, "department": matter.department_code,
                       "audience": matter.audience, "life_events": [e.code for e in events],
                       "keywords": matter.keywords, "online_level": matter.online_level,
                       "summary": matter.summary, "summary_en": matter.summary_en,
                       "published": Matter.objects.filter(pk=matter.pk, published=True).exists(),
                       "guide": {f: getattr(matter, f) for f in (
                           "legal_basis", "conditions", "materials", "process",
                           "fee_description", "statutory_days", "promised_days", "visits",
                           "channels", "consult_phone", "complaint_phone", "faq")}},
            "version": exported_version}


def _content(parts: dict[str, Any]) -> str:
    wanted = {k: parts.get(k) for k in ("form", "fee_table", "licence")}
    if parts.get("flow_spec"):
        wanted["flow_spec"] = parts["flow_spec"]
    else:
        wanted["bpmn"] = parts.get("bpmn") or ""
    return json.dumps(wanted, sort_keys=True, ensure_ascii=False)


@transaction.atomic
def import_definition(pack: Any, actor: Any = None) -> Matter | Bundle:
    """Create or update the matter (or bundle) a service pack describes; returns it.

    ``actor`` None is a system load (the demo); an official must be allowed to edit and,
    for a published version, to publish the department's matters. Raises ValidationError
    naming what is wrong with the pack."""
    if not isinstance(pack, dict) or pack.get("format") != FORMAT:
        raise error(_("这不是一个服务包文件(format 应为 yiwang.service-pack)。"), "format")
    if pack.get("format_version") != FORMAT_VERSION:
        raise error(_("不支持的服务包版本:%(v)s。"), "format_version",
                    v=pack.get("format_version"))
    events = pack.get("life_events") or []
    if not isinstance(events, list):
        raise error(_("服务包的 life_events 必须是列表。"), "life_events")
    for number, event in enumerate(events):
        _check_life_event(number, event)
        if LifeEvent.objects.filter(code=event.get("code")).exists():
            continue
        if actor is not None and not getattr(actor, "is_superuser", False):
            # Life events are the portal's shared navigation, not one department's
            # (review L4): an official's pack may use them, not add them.
            raise error(_("主题“%(code)s”不存在。主题由系统管理员维护,请先请其添加。"),
                        "life_event_unknown", code=event["code"])
        catalogue.ensure_life_event(code=str(event["code"]), name=str(event["name"]),
                                    name_en=str(event.get("name_en", "")),
                                    audience=str(event["audience"]),
                                    order=int(event.get("order", 0)))
    if pack.get("kind") == "bundle":
        return _import_bundle(pack.get("bundle") or {}, actor)
    if pack.get("kind") != "matter":
        raise error(_("服务包类型只能是 matter 或 bundle。"), "kind")
    spec = pack.get("matter")
    if not isinstance(spec, dict) or not spec.get("code"):
        raise error(_("服务包缺少事项信息。"), "matter")
    guide = dict(spec.get("guide") or {})
    for key in ("name", "name_en", "kind", "audience", "keywords", "online_level", "summary",
                "summary_en"):
        if key in spec:
            guide[key] = spec[key]
    matter = catalogue.get_matter(str(spec["code"]))
    if matter is None:
        matter = catalogue.create_matter(
            code=str(spec["code"]), department_code=str(spec.get("department") or ""),
            actor=actor, life_event_codes=spec.get("life_events") or [], **guide)
    else:
        if spec.get("department") and spec["department"] != matter.department_code:
            raise error(_("事项“%(code)s”已属于其他部门,不能用服务包改变实施部门。"),
                        "department", code=matter.code)
        catalogue.update_guide(matter, actor=actor,
                               life_event_codes=spec.get("life_events") or [], **guide)
    version = pack.get("version")
    if version:
        _import_version(matter, version, actor)
    if spec.get("published") and not matter.published:
        versions.publish_matter(matter, actor)
    matter.refresh_from_db()
    return matter


def _check_life_event(number: int, event: Any) -> None:
    """A life event of a pack has a text code, name and audience and a whole-number order
    (review M9: a malformed one was a 500, not a message)."""
    where = f"life_events[{number}]"
    if not isinstance(event, dict):
        raise error(_("服务包的 %(where)s 必须是对象。"), "life_events", where=where)
    for key in ("code", "name", "audience"):
        if not isinstance(event.get(key), str) or not event[key].strip():
            raise error(_("服务包的 %(where)s 缺少 %(key)s。"), "life_events",
                        where=where, key=key)
    try:
        int(event.get("order", 0))
    except (TypeError, ValueError):
        raise error(_("服务包的 %(where)s.order 必须是整数。"), "life_events",
                    where=where) from None


def _import_version(matter: Matter, spec: dict[str, Any], actor: Any) -> None:
    if not isinstance(spec, dict):
        raise error(_("服务包的版本部分必须是对象。"), "version")
    parts = {"form": spec.get("form"), "fee_table": spec.get("fee_table"),
             "licence": spec.get("licence")}
    if spec.get("flow_spec"):
        parts["flow_spec"] = spec["flow_spec"]
    elif spec.get("bpmn"):
        parts["bpmn"] = spec["bpmn"]
    clean = checks.check_parts(matter, form=parts["form"],
                               flow_spec=parts.get("flow_spec"), bpmn=parts.get("bpmn"),
                               fee_table=parts["fee_table"], licence=parts["licence"])
    live = versions.published_version(matter.code)
    wanted_state = spec.get("state", VersionState.PUBLISHED)
    if live is not None and _content({p: getattr(live, p) for p in VERSION_PARTS}) == \
            _content(clean):
        return
    existing = versions.latest_draft(matter)
    if existing is not None:
        mine = _content({p: getattr(existing, p) for p in VERSION_PARTS})
        if mine != _content(clean) and (live is None or mine != _content(
                {p: getattr(live, p) for p in VERSION_PARTS})):
            # Someone is editing a draft: do not overwrite (and maybe publish) their work
            # (review M8). They publish or delete it first, or the pack matches it.
            raise error(_("事项“%(code)s”有一个正在编辑的草稿(第%(number)d版,"
                          "%(when)s 创建),与服务包不同。请先发布或放弃该草稿,再导入服务包。"),
                        "draft_exists", code=matter.code, number=existing.number,
                        when=timezone.localtime(existing.created_at).strftime("%Y-%m-%d %H:%M"))
    draft = versions.create_draft(matter, actor)
    if _content({p: getattr(draft, p) for p in VERSION_PARTS}) != _content(clean):
        flow: dict[str, Any] = ({"flow_spec": clean["flow_spec"]} if clean.get("flow_spec")
                                else {"bpmn": clean.get("bpmn") or None, "flow_spec": {}})
        if flow.get("bpmn"):
            flow.pop("flow_spec")
        draft = versions.save_draft(draft, form=clean["form"], fee_table=clean["fee_table"],
                                    licence=clean["licence"], note=str(spec.get("note", "")),
                                    actor=actor, **flow)
    if wanted_state == VersionState.PUBLISHED:
        versions.publish_version(draft, actor)


def _import_bundle(spec: dict[str, Any], actor: Any) -> Bundle:
    if not spec.get("code") or not spec.get("name"):
        raise error(_("服务包缺少一件事的编码或名称。"), "bundle")
    try:
        bundle = bundles.save_bundle(
            code=str(spec["code"]), name=str(spec["name"]), name_en=str(spec.get("name_en", "")),
            department_code=str(spec.get("department") or ""), form=spec.get("form"),
            members=spec.get("members"), life_event=str(spec.get("life_event") or ""),
            audience=str(spec.get("audience") or "person"), summary=str(spec.get("summary", "")),
            summary_en=str(spec.get("summary_en", "")),
            shared_materials=spec.get("shared_materials") or [],
            promised_days=spec.get("promised_days"), actor=actor)
    except ValidationError:
        raise
    if spec.get("published"):
        bundle = bundles.publish_bundle(bundle, actor)
    return bundle
