"""Service versions (服务版本): drafts, their checks, publication, fees and licence mapping.

A version is editable while it is a draft and frozen once published; publishing retires the
previous published version in the same transaction and takes effect at once (the portal's
service pages are not page-cached, see ADR 0022).
"""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass, field
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Field, Max, ProtectedError, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.enablement.forms import service as forms
from yiwang.enablement.workflow import service as workflow
from yiwang.industry.services.catalogue import may_edit, may_publish
from yiwang.industry.services.common import (
    MAX_FEE_ROWS,
    MAX_FEN,
    error,
    form_keys,
    lookup,
)
from yiwang.industry.services.holders import check_holder
from yiwang.industry.services.models import Matter, ServiceVersion, VersionState
from yiwang.platform.orgs import service as orgs

HIT_POLICIES = ("FIRST", "COLLECT", "UNIQUE")
# Licence field sources the system fills at decision time rather than the form: the
# decision date, a fresh serial (e.g. a card number the card system would assign) and the
# application's receipt number (passed by the caller).
SYSTEM_SOURCES = ("$today", "$serial", "$application_number")
# What a gateway condition may read besides the form's fields: the workflow engine records
# each task's decision (``outcomes.<task id>``) and the last one (``outcome``) in the flow's
# data; the application's form data is all else the flow gets (``workflow.start``/``complete``).
FLOW_VARIABLES = frozenset({"outcome", "outcomes"})
_BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


@dataclass(frozen=True)
class FeeItem:
    item: str
    item_en: str
    amount_fen: int


@dataclass(frozen=True)
class FeeQuote:
    """What an application costs: the matched rows of the fee table, in fen (分)."""

    items: tuple[FeeItem, ...] = field(default_factory=tuple)

    @property
    def total_fen(self) -> int:
        return sum(i.amount_fen for i in self.items)

    @property
    def free(self) -> bool:
        return self.total_fen == 0

    def as_dict(self) -> dict[str, Any]:
        return {"total_fen": self.total_fen,
                "items": [{"item": i.item, "item_en": i.item_en, "amount_fen": i.amount_fen}
                          for i in self.items]}


# --- reads ----------------------------------------------------------------------------

# Every application starts from its matter's live version, and the portal's pages read it
# too. A published version's content never changes (``save_draft`` refuses it); which version
# is live, and the matter's guide (name, department, time limits, materials), do. So one fixed
# query reads, at every call, the live version's key and the matter's ``updated_at`` (bumped
# by every save of the matter: each write of the catalogue saves it with ``updated_at``), and
# the version with its matter is kept per process under those values: a version published or
# retired, a matter withdrawn or its guide edited in another process is seen at the next call,
# as the key read then is new. A version's ``published_at`` is in the key too: a test's rolled
# back rows may reuse a primary key. The kept instances are shared between requests: read them,
# never change them.
_LIVE: dict[tuple[Any, ...], ServiceVersion] = {}
_LIVE_SIZE = 512
_LIVE_SQL: dict[str, str] = {}


def _live_sql() -> str:
    sql = _LIVE_SQL.get(connection.vendor)
    if sql is None:
        quote = connection.ops.quote_name
        v_meta, m_meta = ServiceVersion._meta, Matter._meta

        def v(name: str) -> str:
            return f"v.{quote(str(cast('Field[Any, Any]', v_meta.get_field(name)).column))}"

        def m(name: str) -> str:
            return f"m.{quote(str(cast('Field[Any, Any]', m_meta.get_field(name)).column))}"

        sql = (f"SELECT {v('id')}, {v('published_at')}, {m('id')}, "  # noqa: S608
               f"{m('updated_at')} FROM {quote(v_meta.db_table)} v "
               f"INNER JOIN {quote(m_meta.db_table)} m ON {m('id')} = {v('matter')} "
               f"WHERE {m('code')} = %s AND {m('published')} = %s AND {v('state')} = %s")
        _LIVE_SQL[connection.vendor] = sql
    return sql


def published_version(matter_code: str) -> ServiceVersion | None:
    """The live version of the matter (None when it has none or the matter is withdrawn).

    The instance (and its ``matter``) may be shared with other callers of this process: do
    not change it."""
    with connection.cursor() as cursor:
        cursor.execute(_live_sql(), [matter_code, True, VersionState.PUBLISHED.value])
        row = cursor.fetchone()
    if row is None:
        return None
    key = tuple(row)
    version = _LIVE.get(key)
    if version is None:
        version = ServiceVersion.objects.select_related("matter").filter(pk=row[0]).first()
        if version is None or version.state != VersionState.PUBLISHED \
                or not version.matter.published:
            return None  # retired or withdrawn since the row above was read
        if len(_LIVE) >= _LIVE_SIZE:
            _LIVE.clear()
        _LIVE[key] = version
    return version


def get_version(pk: int | str) -> ServiceVersion | None:
    """A version by primary key, in any state (applications keep theirs), or None."""
    try:
        return ServiceVersion.objects.select_related("matter").filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def versions_of(matter: Matter) -> QuerySet[ServiceVersion]:
    """Every version of the matter, newest first."""
    return (ServiceVersion.objects.filter(matter=matter)
            .select_related("created_by", "published_by").order_by("-number"))


def latest_draft(matter: Matter) -> ServiceVersion | None:
    return versions_of(matter).filter(state=VersionState.DRAFT).first()


# --- checks ---------------------------------------------------------------------------

def _messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _name_parties(spec: dict[str, Any]) -> dict[str, Any]:
    """A countersign party without a name of its own is named after its department (its
    task reads 税费核验（示例市税务局）, not 税费核验（swj）), in the spec itself: the BPMN is
    built from the spec alone, and so built again the same."""

    def walk(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            for party in step.get("parties") or ():
                code = str(party.get("department") or "")
                if not party.get("name") and code and not code.startswith("$"):
                    found = orgs.get_department(code)
                    if found is not None:
                        party["name"] = str(found.name)[:64]
            for branch in step.get("branches") or ():
                walk(branch.get("steps") or [])

    walk(spec.get("steps") or [])
    return spec


def check_fee_table(table: Any, form: dict[str, Any] | None) -> dict[str, Any]:
    """Validate a fee decision table against the form; return it normalised.

    ``{}`` or no rows means free. Each row: ``when`` (JSON Logic over the form data; omitted
    or ``true`` = always), ``item`` (收费项目), ``amount_fen`` (integer ≥ 0)."""
    if table in (None, {}, []):
        return {"hit_policy": "FIRST", "rows": []}
    if not isinstance(table, dict):
        raise ValidationError(_("收费决策表必须是一个对象。"))
    policy = str(table.get("hit_policy") or "FIRST").upper()
    rows = table.get("rows") or []
    problems: list[str] = []
    if policy not in HIT_POLICIES:
        problems.append(_("命中策略只能是 FIRST、COLLECT 或 UNIQUE。"))
    if not isinstance(rows, list):
        raise ValidationError(_("收费决策表的规则行必须是列表。"))
    if len(rows) > MAX_FEE_ROWS:
        problems.append(_("收费规则不能超过%(n)d行。") % {"n": MAX_FEE_ROWS})
    keys = form_keys(form)
    clean_rows = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            problems.append(_("第%(n)d行不是一条规则。") % {"n": number})
            continue
        item = str(row.get("item") or "").strip()
        if not item:
            problems.append(_("第%(n)d行缺少收费项目名称。") % {"n": number})
        amount = row.get("amount_fen")
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= MAX_FEN:
            # Said in yuan, as officials type it, and in fen for ``amount_fen`` (API clients)
            problems.append(_("第%(n)d行的金额必须在0到%(max)d元之间,最多两位小数"
                              "(amount_fen 为 0 到 %(max_fen)d 的整数,单位分)。")
                            % {"n": number, "max": MAX_FEN // 100, "max_fen": MAX_FEN})
        when = row.get("when", True)
        if when is not True:
            try:
                forms.check_logic(when, known_keys=keys,
                                  where=_("第%(n)d行的条件") % {"n": number})
            except ValidationError as exc:
                problems.extend(_messages(exc))
        clean_rows.append({"when": when, "item": item,
                           "item_en": str(row.get("item_en") or ""), "amount_fen": amount})
    if problems:
        raise ValidationError(problems)
    return {"hit_policy": policy, "rows": clean_rows}


def check_licence(licence: Any, form: dict[str, Any] | None,
                  department_code: str) -> dict[str, Any]:
    """Validate a licence mapping against the licence type's schema and the form.

    ``{}`` means the matter issues no licence. Otherwise ``{"type": code, "map": {field:
    source}, "holder": {...}}``: every required field of the type (except those filled from
    the holder) is mapped, every mapped field exists, a source is a form key (``"a"`` or
    ``"a.b"``) or a JSON Logic rule over the form keys, the matter's department issues that
    type, and the optional ``holder`` (who gets the licence when not the applicant) is a
    known kind with valid sources (see :mod:`.holders`)."""
    if licence in (None, {}, ""):
        return {}
    from yiwang.support.licences import service as licences

    if not isinstance(licence, dict) or not isinstance(licence.get("map", {}), dict):
        raise ValidationError(_("证照映射必须是 {\"type\": 代码, \"map\": {…}}。"))
    ltype = licences.get_type(str(licence.get("type") or ""))
    if ltype is None or not ltype.active:
        raise ValidationError(_("证照类型“%(code)s”不存在或未启用。")
                              % {"code": licence.get("type")})
    problems: list[str] = []
    if department_code not in (ltype.issuing_departments or []):
        problems.append(_("本事项的实施部门不是“%(name)s”的发证部门。") % {"name": ltype.name})
    schema_fields = {f["key"]: f for f in (ltype.schema or {}).get("fields", [])}
    mapping = licence.get("map") or {}
    keys = form_keys(form)
    for licence_field, source in mapping.items():
        if licence_field not in schema_fields:
            problems.append(_("证照“%(name)s”没有字段“%(field)s”。")
                            % {"name": ltype.name, "field": licence_field})
            continue
        if isinstance(source, str) and source.startswith("$"):
            if source not in SYSTEM_SOURCES:
                problems.append(_("字段“%(field)s”的系统取值只能是 %(names)s。")
                                % {"field": schema_fields[licence_field]["label"],
                                   "names": "、".join(SYSTEM_SOURCES)})
        elif isinstance(source, str):
            if source.split(".")[0] not in keys:
                problems.append(_("字段“%(field)s”映射到表单中没有的字段“%(key)s”。")
                                % {"field": schema_fields[licence_field]["label"], "key": source})
        elif isinstance(source, dict):
            try:
                forms.check_logic(source, known_keys=keys, where=_("字段“%(field)s”的规则")
                                  % {"field": schema_fields[licence_field]["label"]})
            except ValidationError as exc:
                problems.extend(_messages(exc))
        else:
            problems.append(_("字段“%(field)s”的来源必须是表单字段或 JSON Logic 规则。")
                            % {"field": schema_fields[licence_field]["label"]})
    for key, spec in schema_fields.items():
        if spec.get("required") and not spec.get("holder") and key not in mapping:
            problems.append(_("证照必填字段“%(field)s”尚未映射。") % {"field": spec["label"]})
    holder = None
    try:
        holder = check_holder(licence.get("holder"), keys, str(ltype.holder_kind))
    except ValidationError as exc:
        problems.extend(_messages(exc))
    if problems:
        raise ValidationError(problems)
    clean = {"type": ltype.code, "map": dict(mapping)}
    if holder:
        clean["holder"] = holder
    return clean


def _spec_conditions(steps: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """``(where, rule)`` of every branch condition of a (checked) flow spec's gateways."""
    found: list[tuple[str, Any]] = []
    for step in steps:
        gateway = step.get("name") or step.get("id")
        for number, branch in enumerate(step.get("branches") or [], start=1):
            if "when" in branch:
                found.append((_("网关“%(gateway)s”第%(n)d个分支%(branch)s的条件") % {
                    "gateway": gateway, "n": number,
                    "branch": f"“{branch['name']}”" if branch.get("name") else ""},
                    branch["when"]))
            found.extend(_spec_conditions(branch.get("steps") or []))
    return found


def _bpmn_conditions(xml: str) -> list[tuple[str, Any]]:
    """``(where, rule)`` of every JSON Logic condition of an imported (normalised) BPMN."""
    from lxml import etree

    # The XML comes from ``workflow.import_bpmn``; parsed as untrusted all the same.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        root = etree.fromstring(xml.encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        return []  # the workflow's import names it
    names = {el.get("id"): el.get("name") or el.get("id")
             for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    found: list[tuple[str, Any]] = []
    for flow in root.iter(f"{{{_BPMN_NS}}}sequenceFlow"):
        condition = flow.find(f"{{{_BPMN_NS}}}conditionExpression")
        if condition is None or (condition.get("language") or "").lower() != "jsonlogic":
            continue
        try:
            rule = json.loads(condition.text or "")
        except (ValueError, RecursionError):
            continue  # refused by the workflow's import
        found.append((_("网关“%(gateway)s”通往“%(target)s”的条件") % {
            "gateway": names.get(flow.get("sourceRef"), flow.get("sourceRef")),
            "target": flow.get("name") or names.get(flow.get("targetRef"),
                                                    flow.get("targetRef"))}, rule))
    return found


def check_gateway_conditions(flow_spec: dict[str, Any] | None, bpmn: str | None,
                             form: dict[str, Any] | None) -> None:
    """Every gateway condition of the flow (the editor's spec, else the imported BPMN) reads
    only the form's fields (or :data:`FLOW_VARIABLES`): a branch on a field the form does not
    have could never be taken. Raises ``ValidationError`` naming the gateway and the field."""
    conditions = (_spec_conditions((flow_spec or {}).get("steps") or []) if flow_spec
                  else _bpmn_conditions(bpmn) if bpmn else [])
    keys = form_keys(form) | FLOW_VARIABLES
    problems: list[str] = []
    for where, rule in conditions:
        try:
            forms.check_logic(rule, known_keys=keys, where=where)
        except ValidationError as exc:
            problems.extend(_messages(exc))
    if problems:
        raise ValidationError(problems)


def _check_parts(matter: Matter, *, form: Any, flow_spec: Any, bpmn: str | None,
                 fee_table: Any, licence: Any) -> dict[str, Any]:
    """Check each part with its owner (forms, workflow, ours); one error per part."""
    problems: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    try:
        clean["form"] = forms.check_definition(form) if form else {"version": 1,
                                                                  "components": []}
    except ValidationError as exc:
        problems["form"] = _messages(exc)
        clean["form"] = form if isinstance(form, dict) else {}
    if bpmn:
        try:
            clean["bpmn"] = workflow.import_bpmn(bpmn)["bpmn"]
            clean["flow_spec"] = {}
        except ValidationError as exc:
            problems["flow"] = _messages(exc)
    elif flow_spec:
        try:
            clean["flow_spec"] = _name_parties(workflow.check_spec(flow_spec))
            clean["bpmn"] = workflow.build_bpmn(clean["flow_spec"])
        except ValidationError as exc:
            problems["flow"] = _messages(exc)
    else:
        clean["flow_spec"], clean["bpmn"] = {}, ""
    if "flow" not in problems:
        try:
            check_gateway_conditions(clean["flow_spec"], clean["bpmn"], clean["form"])
        except ValidationError as exc:
            problems["flow"] = _messages(exc)
    try:
        clean["fee_table"] = check_fee_table(fee_table, clean["form"])
    except ValidationError as exc:
        problems["fee_table"] = _messages(exc)
    try:
        clean["licence"] = check_licence(licence, clean["form"], matter.department_code)
    except ValidationError as exc:
        problems["licence"] = _messages(exc)
    if problems:
        raise ValidationError(problems)
    return clean


# --- writes ---------------------------------------------------------------------------

def _require(ok: bool) -> None:
    if not ok:
        raise error(_("您无权管理本部门以外的事项。"), "not_allowed")


@transaction.atomic
def create_draft(matter: Matter, actor: Any = None) -> ServiceVersion:
    """A new draft of ``matter``: a copy of its latest version (or empty). A matter has at
    most one draft; asking again returns the existing one."""
    if actor is not None:
        _require(may_edit(actor, matter))
    Matter.objects.select_for_update().filter(pk=matter.pk).first()
    existing = latest_draft(matter)
    if existing is not None:
        return existing
    latest = versions_of(matter).first()
    number = (ServiceVersion.objects.filter(matter=matter).aggregate(n=Max("number"))["n"]
              or 0) + 1
    version = ServiceVersion.objects.create(
        matter=matter, number=number, state=VersionState.DRAFT,
        form=copy.deepcopy(latest.form) if latest else {"version": 1, "components": []},
        flow_spec=copy.deepcopy(latest.flow_spec) if latest else {},
        bpmn=latest.bpmn if latest else "",
        fee_table=copy.deepcopy(latest.fee_table) if latest else {"hit_policy": "FIRST",
                                                                   "rows": []},
        licence=copy.deepcopy(latest.licence) if latest else {},
        created_by=actor if getattr(actor, "pk", None) else None)
    audit.record("services.draft_created", version, actor=actor,
                 detail={"matter": matter.code, "number": number})
    return version


@transaction.atomic
def discard_draft(version: ServiceVersion, actor: Any) -> None:
    """放弃草稿: delete a draft version (review L17: the pack import asks the official to
    publish or discard a draft). Only a draft, only by someone who may edit the matter
    (``may_edit``); audited. Published and retired versions are never deleted."""
    version = ServiceVersion.objects.select_for_update().select_related("matter").get(
        pk=version.pk)
    _require(may_edit(actor, version.matter))
    if version.state != VersionState.DRAFT:
        raise error(_("只能放弃草稿版本;已发布或已停用的版本会保留。"), "not_draft")
    audit.record("services.draft_discarded", version, actor=actor,
                 detail={"matter": version.matter.code, "number": version.number})
    try:
        with transaction.atomic():
            version.delete()
    except ProtectedError:
        raise error(_("该草稿已被引用,不能放弃。"), "draft_in_use") from None


_UNSET: Any = object()


@transaction.atomic
def save_draft(version: ServiceVersion, *, form: Any = _UNSET, flow_spec: Any = _UNSET,
               bpmn: str | None = None, fee_table: Any = _UNSET, licence: Any = _UNSET,
               note: str | None = None, actor: Any = None) -> ServiceVersion:
    """Save the parts of a draft (those given; the others are kept and re-checked).

    Each part is checked by its owner: the form by ``forms.check_definition``, the flow by
    ``workflow.check_spec``/``build_bpmn`` (or ``import_bpmn`` for a BPMN file), the fee
    table and the licence mapping here. Raises a ``ValidationError`` whose dict names the
    part (``form``, ``flow``, ``fee_table``, ``licence``) with its messages."""
    version = ServiceVersion.objects.select_for_update().select_related("matter").get(
        pk=version.pk)
    if actor is not None:
        _require(may_edit(actor, version.matter))
    if version.state != VersionState.DRAFT:
        raise error(_("已发布或已停用的版本不能修改,请新建草稿。"), "frozen")
    if bpmn:
        spec_in, bpmn_in = None, bpmn
    elif flow_spec is not _UNSET:
        spec_in, bpmn_in = flow_spec, None
    elif version.flow_spec:
        spec_in, bpmn_in = version.flow_spec, None
    else:  # an imported BPMN file (no spec) or nothing yet
        spec_in, bpmn_in = None, version.bpmn or None
    clean = _check_parts(
        version.matter,
        form=version.form if form is _UNSET else form,
        flow_spec=spec_in, bpmn=bpmn_in,
        fee_table=version.fee_table if fee_table is _UNSET else fee_table,
        licence=version.licence if licence is _UNSET else licence)
    for part, value in clean.items():
        setattr(version, part, value)
    if note is not None:
        version.note = note[:200]
    version.save()
    audit.record("services.draft_saved", version, actor=actor,
                 detail={"matter": version.matter.code, "number": version.number})
    return version


@transaction.atomic
def publish_version(version: ServiceVersion, actor: Any = None) -> ServiceVersion:
    """Publish a draft: it becomes the matter's live version at once, the previous one is
    retired (applications keep theirs) and the matter is listed. Audited."""
    version = ServiceVersion.objects.select_for_update().select_related("matter").get(
        pk=version.pk)
    matter = version.matter
    if actor is not None:
        _require(may_publish(actor, matter))
    if version.state != VersionState.DRAFT:
        raise error(_("只能发布草稿版本。"), "not_draft")
    if not form_keys(version.form):
        raise error(_("表单还没有字段,不能发布。"), "empty_form")
    if not version.bpmn:
        raise error(_("还没有设置审批流程,不能发布。"), "no_flow")
    # Check again: the licence types or departments may have changed since it was saved.
    _check_parts(matter, form=version.form, flow_spec=version.flow_spec or None,
                 bpmn=None if version.flow_spec else version.bpmn,
                 fee_table=version.fee_table, licence=version.licence)
    # A published bundle applies with its members' live versions: this one must still be
    # fillable by every bundle's map (review M11), or the bundle's applications would fail.
    # Only a required field left unfilled refuses; a mapped field this version no longer has
    # is dropped when the bundle applies, and the bundle's editor shows it (review M14).
    from yiwang.industry.services.bundles import bundle_map_warnings, bundles_broken_by

    broken = bundles_broken_by(matter.code, version.form)
    if broken:
        raise ValidationError({"bundles": [
            _("这个版本会使已发布的一件事无法办理,请先与牵头部门协调修改一件事:"), *broken]})
    dropped = bundle_map_warnings(matter.code, version.form)
    now = timezone.now()
    ServiceVersion.objects.filter(matter=matter, state=VersionState.PUBLISHED).update(
        state=VersionState.RETIRED, retired_at=now)
    version.state = VersionState.PUBLISHED
    version.published_at = now
    version.published_by = actor if getattr(actor, "pk", None) else None
    version.save()
    if not matter.published:
        matter.published = True
        matter.save(update_fields=["published", "updated_at"])
    audit.record("services.version_published", version, actor=actor,
                 detail={"matter": matter.code, "number": version.number,
                         **({"bundle_map_dropped": dropped} if dropped else {})})
    return version


@transaction.atomic
def publish_matter(matter: Matter, actor: Any = None) -> Matter:
    """List the matter's guide in the catalogue (a matter may be listed without an online
    version: the guide then says where to apply in person)."""
    if actor is not None:
        _require(may_publish(actor, matter))
    matter.published = True
    matter.save(update_fields=["published", "updated_at"])
    audit.record("services.matter_published", matter, actor=actor, detail={"code": matter.code})
    return matter


@transaction.atomic
def unpublish_matter(matter: Matter, actor: Any = None) -> Matter:
    """Withdraw the matter: no longer listed, no new applications (its published version is
    retired); running applications keep their version."""
    if actor is not None:
        _require(may_publish(actor, matter))
    ServiceVersion.objects.filter(matter=matter, state=VersionState.PUBLISHED).update(
        state=VersionState.RETIRED, retired_at=timezone.now())
    matter.published = False
    matter.save(update_fields=["published", "updated_at"])
    audit.record("services.matter_unpublished", matter, actor=actor,
                 detail={"code": matter.code})
    return matter


# --- fees and licences ----------------------------------------------------------------

def compute_fee(version: ServiceVersion, data: dict[str, Any]) -> FeeQuote:
    """Evaluate the version's fee decision table on cleaned form data.

    FIRST: the first matching row; COLLECT: every matching row; UNIQUE: the only matching
    row (more than one is a table error, refused). No rows or no match: free."""
    table = version.fee_table or {}
    policy = str(table.get("hit_policy") or "FIRST").upper()
    hits: list[FeeItem] = []
    for row in table.get("rows") or []:
        when = row.get("when", True)
        if when is True or forms.evaluate(when, data):
            hits.append(FeeItem(row["item"], row.get("item_en", ""), int(row["amount_fen"])))
            if policy == "FIRST":
                break
    if policy == "UNIQUE" and len(hits) > 1:
        raise error(_("收费决策表有多条规则同时命中,请联系事项管理部门。"), "fee_ambiguous")
    return FeeQuote(tuple(hits))


def licence_fields(version: ServiceVersion, data: dict[str, Any], *,
                   context: dict[str, Any] | None = None) -> tuple[str, dict] | None:
    """The licence the version issues on approval and its fields computed from ``data``:
    ``(type code, {field: value})``, or None when it issues none. Fields filled from the
    holder (name, ID number, credit code) are left to the licences app. A source ``"$today"``
    is the decision date (today, local time), ``"$serial"`` a fresh 16-digit serial (date and
    random digits), ``"$application_number"`` is ``context["application_number"]`` (the
    caller passes the receipt number)."""
    licence = version.licence or {}
    if not licence.get("type"):
        return None
    context = context or {}
    fields: dict[str, Any] = {}
    for licence_field, source in (licence.get("map") or {}).items():
        if source == "$today":
            value: Any = timezone.localdate().isoformat()
        elif source == "$serial":
            value = f"{timezone.localdate():%Y%m%d}{secrets.randbelow(10**8):08d}"
        elif isinstance(source, str) and source.startswith("$"):
            value = context.get(source[1:])
        elif isinstance(source, str):
            value = lookup(data, source)
        else:
            value = forms.evaluate(source, data)
        if value not in (None, ""):
            fields[licence_field] = value
    return str(licence["type"]), fields
