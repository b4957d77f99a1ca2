"""Service versions (服务版本): drafts, publication, fees and licence mapping (their checks:
:mod:`.checks`).

A version is editable while it is a draft and frozen once published; publishing retires the
previous published version in the same transaction and takes effect at once (the portal's
service pages are not page-cached, see ADR 0022).
"""

from __future__ import annotations

import copy
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
from yiwang.industry.services.catalogue import may_edit, may_publish
from yiwang.industry.services.checks import check_parts
from yiwang.industry.services.common import error, form_keys, lookup
from yiwang.industry.services.models import Matter, ServiceVersion, VersionState


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
    clean = check_parts(
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
    check_parts(matter, form=version.form, flow_spec=version.flow_spec or None,
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
