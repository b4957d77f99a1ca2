"""The applicant's side of an application: drafts, submission, correction and withdrawal
(materials: :mod:`.materials`; bundles: :mod:`.bundles`; evaluation: :mod:`.evaluations`).

Every write checks and computes first — validation, JSON Logic, the uploads' rules, OCR,
the fee, the approval flow's first step, the due time — and only then opens its
transaction, which holds row locks, conditional updates and inserts only: SQLite has one
writer, so Python time spent inside a write transaction is time every other writer waits.
A write that fails leaves nothing behind (no material, no data, no ``row_version`` bump).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.industry.applications import access, clock, materials, numbers, progress
from yiwang.industry.applications import integration as ext
from yiwang.industry.applications.common import (
    add_event,
    error,
    locked,
    masked_applicant,
    swap_version,
)
from yiwang.industry.applications.links import applicant_link, official_link
from yiwang.industry.applications.materials import EDITABLE, owner_key
from yiwang.industry.applications.models import (
    OPEN_STATES,
    Application,
    MaterialSource,
    State,
    TaskState,
)

WITHDRAWABLE = (State.DRAFT, *OPEN_STATES)

__all__ = ["EDITABLE", "WITHDRAWABLE", "fee_order_lapsed", "owner_key", "renew_fee_order",
           "save_draft", "submit_application", "submit_correction", "withdraw_application"]


def _version_or_error(matter_code: str) -> Any:
    version = ext.published_version(matter_code)
    if version is None:
        raise error(_("事项 %(code)s 暂未开放网上办理,或已停止办理。") % {"code": matter_code},
                    "unpublished")
    return version


def check_applicant(version: Any, acting_for: str) -> None:
    """Refuse an applicant of the wrong kind for the version (see
    ``integration.applicant_problem``)."""
    problem = ext.applicant_problem(version, acting_for)
    if problem:
        raise error(problem, "applicant_kind")


def _department_name(app: Application) -> str:
    found = ext.orgs.get_department(app.department_code)
    return str(getattr(found, "name", "") or _("受理部门"))


def as_dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise error(_("申请数据格式不正确。"), "data")
    return dict(data)


def enterprise_name(code: str) -> str:
    if not code:
        return ""
    found = ext.identity.get_enterprise(code)
    return getattr(found, "name", "") if found is not None else ""


def _fresh(user: Any, application: Application) -> Application:
    """The application as stored now, if ``user`` may act on it as its applicant — the
    instance itself when :func:`queries.application_for_applicant` has just read and
    checked it for this user (a mark taken once), else read again."""
    if application.__dict__.pop("_checked_for", None) == getattr(user, "pk", None) \
            and application.pk is not None:
        return application
    return access.own_application(user, Application.objects.get(pk=application.pk))


# --- drafts ----------------------------------------------------------------------------------

def save_draft(user: Any, matter_code: str, data: Mapping[str, Any], *,
               acting_for: str | None = None,
               application: Application | None = None,
               reuse: Mapping[str, tuple[str, bool]] | None = None) -> Application:
    """Create or update a draft (草稿) kept on the server, so that it can be resumed on
    another device. ``data`` is checked for types only (``partial``); the upload tokens it
    names are checked (owner, the field's rule), read by OCR and attached in the same
    transaction; file fields it leaves out keep their files. ``reuse``: ``{key: (licence
    identifier, consent)}``, wallet licences used in place of materials. An agent files for
    an enterprise (``acting_for``, its credit code) under a mandate with 办事申报 scope."""
    cleaned_in = as_dict(data)
    existing: Application | None = None
    if application is None:
        version = _version_or_error(matter_code)
        matter = ext.version_matter(version)
        code = access.check_may_file_for(user, acting_for) if acting_for else ""
        check_applicant(version, code)
        department = ext.matter_department(matter)
        app = Application(
            matter_code=matter.code, matter_name=matter.name[:128], version_pk=version.pk,
            applicant=user, acting_for=code, department_code=department,
            region_code=ext.orgs.region_of(department),
            applicant_masked=masked_applicant(user, enterprise_name(code)))
    else:
        existing = app = _fresh(user, application)
        if app.state != State.DRAFT:
            raise error(_("已提交的申请不能再作为草稿修改。"), "state")
        version = ext.get_version(app.version_pk)
        cleaned_in = with_attached_files(version, app, cleaned_in)
    form = ext.version_form(version)
    cleaned = ext.forms.validate_submission(form, cleaned_in, partial=True)
    prepared = materials.prepare(user, version, existing, cleaned, reuse=reuse)
    return _write_draft(user, app, dict(cleaned), prepared)


@transaction.atomic
def _write_draft(user: Any, app: Application, cleaned: dict[str, Any],
                 prepared: materials.Prepared) -> Application:
    if app.pk:
        swap_version(app.pk, app.row_version)
        app = locked(app.pk)
        if app.state != State.DRAFT:
            raise error(_("已提交的申请不能再作为草稿修改。"), "state")
    app.data = cleaned
    if app.pk is None and connection.features.can_return_columns_from_insert:
        _insert(app)
    else:
        app.save()
    materials.record(user, app, prepared)
    audit.record("application.draft_saved", app, actor=user,
                 detail={"matter": app.matter_code})
    return app


_INSERT_SQL: dict[str, tuple[list[Any], str]] = {}


def _insert(app: Application) -> None:
    """INSERT a new draft with fixed SQL instead of ``save()``'s query building (a
    millisecond of every new draft). Fields prepare their values as in ``save()``
    (``auto_now_add``, defaults, encryption). No model signal is sent: an application's writes
    are not audited by the signal (``audit_writes = False``) and nothing else receives them."""
    found = _INSERT_SQL.get(connection.vendor)
    if found is None:
        meta, quote = Application._meta, connection.ops.quote_name
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        columns = ", ".join(quote(str(f.column)) for f in fields)
        found = (fields, f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
                         f"VALUES ({', '.join(['%s'] * len(fields))}) "
                         f"RETURNING {quote(str(meta.pk.column))}")
        _INSERT_SQL[connection.vendor] = found
    fields, sql = found
    values = [f.get_db_prep_save(f.pre_save(app, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    app.pk = row[0]
    app._state.adding = False
    app._state.db = connection.alias


# --- submission ------------------------------------------------------------------------------

def validate(version: Any, app: Application, data: dict[str, Any]) -> dict[str, Any]:
    """The cleaned data, or ``SubmissionInvalid`` with a message per field; a file field
    satisfied by a reused licence counts as present."""
    form = ext.version_form(version)
    # The keys of the licences reused in place of materials, read only when a file field is
    # missing (most submissions have every file uploaded: no query for them).
    by_licence: set[str] | None = None

    def reused() -> set[str]:
        nonlocal by_licence
        if by_licence is None:
            by_licence = set(app.materials.filter(source=MaterialSource.LICENCE)
                             .values_list("key", flat=True)) if app.pk else set()
        return by_licence

    try:
        cleaned = ext.forms.validate_submission(form, data)
    except ext.forms.SubmissionInvalid as exc:
        left = {path: msgs for path, msgs in exc.errors.items()
                if path.split("[")[0].split(".")[0] not in reused()}
        if left:
            raise ext.forms.SubmissionInvalid(left) from None
        cleaned = ext.forms.validate_submission(form, data, partial=True)
    missing: dict[str, list[str]] = {}
    for component in ext.forms.file_fields(form, cleaned):
        key = component["key"]
        if component.get("required") and not cleaned.get(key) and key not in reused():
            missing[key] = [_("请上传“%(label)s”或使用电子证照代替。") % {
                "label": component.get("label", key)}]
    if missing:
        raise ext.forms.SubmissionInvalid(missing)
    return dict(cleaned)


def _fee(version: Any, data: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    quote = ext.catalogue.compute_fee(version, data)
    if quote is None:
        return 0, []
    total = getattr(quote, "total_fen", None)
    if total is None:
        total = getattr(quote, "amount_fen", 0)
    items = [ext._plain(i) for i in (getattr(quote, "items", None) or [])]
    return int(total or 0), items


@dataclass
class Submission:
    """Everything a submission writes, computed before its transaction."""

    version: Any
    cleaned: dict[str, Any]
    prepared: materials.Prepared
    now: datetime
    days: int
    due_at: datetime | None
    fee_fen: int
    fee_items: list[dict[str, Any]]
    run: Any
    flow: progress.RunPlan


def prepare_submission(user: Any, version: Any, app: Application, cleaned: dict[str, Any]
                       ) -> Submission:
    now = timezone.now()
    matter = ext.version_matter(version)
    days = ext.matter_days(matter)
    fee_fen, fee_items = _fee(version, cleaned)
    run = ext.workflow.start(ext.version_bpmn(version), cleaned, now=now)
    stub = Application(department_code=app.department_code or ext.matter_department(matter),
                       version_pk=version.pk)
    stub.data = cleaned
    return Submission(
        version=version, cleaned=cleaned,
        prepared=materials.prepare(user, version, app, cleaned, compare=True), now=now,
        days=days, due_at=clock.due_after(now, days), fee_fen=fee_fen, fee_items=fee_items,
        run=run, flow=progress.plan_run(stub, run, now=now, version=version, fresh=True))


def submit_application(user: Any, application: Application, *,
                       data: Mapping[str, Any] | None = None,
                       expected_version: int | None = None) -> Application:
    """Submit a draft: re-validate against its own version (a message per field, nothing
    saved on error), check materials (uploads claimed, or licences reused with consent),
    compare OCR readings with the form (mismatches stored for applicant and officer), quote
    the fee, start the approval flow, give a receipt number, start the clock and notify."""
    app = _fresh(user, application)
    if app.state != State.DRAFT:
        raise error(_("该申请已提交,不能重复提交。"), "state")
    version = ext.get_version(app.version_pk)
    if ext.published_version(app.matter_code) is None:
        # withdrawn (撤下) since the draft was saved: running applications finish on their
        # version, but no new one starts
        raise error(_("事项“%(name)s”已停止网上办理,草稿不能再提交。如有疑问请咨询%(dept)s。")
                    % {"name": app.matter_name, "dept": _department_name(app)}, "unpublished")
    problem = ext.applicant_problem(version, app.acting_for)
    if problem:  # a draft saved before the rule: its applicant cannot change
        raise error(_("%(problem)s这份草稿是以原身份保存的,不能再提交:请以正确的身份重新申请,"
                      "并可撤回这份草稿。") % {"problem": problem}, "applicant_kind")
    merged = app.data if data is None else with_attached_files(version, app, as_dict(data))
    cleaned = validate(version, app, merged)
    plan = prepare_submission(user, version, app, cleaned)
    expected = app.row_version if expected_version is None else expected_version
    return write_submission(user, app.pk, plan, expected, app=app)


def with_attached_files(version: Any, app: Application, data: dict[str, Any]
                        ) -> dict[str, Any]:
    """``data`` with the files already attached to the application for the file fields it
    leaves out (materials are uploaded one by one, the data sent at the end)."""
    kept = app.data
    for component in ext.forms.file_fields(ext.version_form(version), {**kept, **data}):
        key = component["key"]
        if key not in data and kept.get(key):
            data[key] = kept[key]
    return data


@transaction.atomic
def write_submission(user: Any, app_pk: int, plan: Submission,
                     expected_version: int | None, *,
                     app: Application | None = None) -> Application:
    """The submission's transaction. ``app``: the application as read (and checked) before
    ``plan`` was made from it; when its ``row_version`` is ``expected_version``, one
    conditional ``UPDATE`` (that version, still a draft) both swaps the version and stores the
    submission — the row is then the one read, as every write bumps ``row_version`` — instead
    of the swap, the locked re-read and the save. Otherwise, or when the row moved on, the
    swap and the re-read say why (stale, or submitted already)."""
    if app is not None and app.pk == app_pk and expected_version is not None \
            and app.row_version == expected_version:
        _submitted(app, plan)
        if _store_submitted(app, expected_version):
            app.row_version = expected_version + 1
            return _record_rest(user, app, plan)
        # Not stored: the checks below raise, and the transaction (with the receipt number
        # just taken) is rolled back.
    swap_version(app_pk, expected_version)
    app = locked(app_pk)
    if app.state != State.DRAFT:
        raise error(_("该申请已提交,不能重复提交。"), "state")
    return record_submission(user, app, plan)


SUBMITTED_FIELDS = ["data_text", "state", "submitted_at", "accepted_at", "time_limit_days",
                    "due_at", "fee_fen", "fee_items", "number", "workflow_text",
                    "next_timer_at", "updated_at"]


_STORE_SQL: dict[str, str] = {}


def _store_sql() -> str:
    """``UPDATE`` of the submitted columns under the compare-and-swap, fixed SQL for this
    database (building it with the ORM at every submission cost a millisecond)."""
    sql = _STORE_SQL.get(connection.vendor)
    if sql is None:
        meta, quote = Application._meta, connection.ops.quote_name

        def column(name: str) -> str:
            return quote(str(cast("Field[Any, Any]", meta.get_field(name)).column))

        version = column("row_version")
        sets = ", ".join(f"{column(name)} = %s" for name in SUBMITTED_FIELDS)
        sql = (f"UPDATE {quote(meta.db_table)} SET {version} = {version} + 1, "  # noqa: S608
               f"{sets} WHERE {column('id')} = %s AND {version} = %s "
               f"AND {column('state')} = %s")
        _STORE_SQL[connection.vendor] = sql
    return sql


def _store_submitted(app: Application, expected_version: int) -> bool:
    """Store the submitted columns of ``app`` if its row is still a draft at
    ``expected_version`` (and bump the version); whether it was."""
    meta = Application._meta
    values = [cast("Field[Any, Any]", meta.get_field(name)).get_db_prep_save(
        getattr(app, name), connection) for name in SUBMITTED_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(_store_sql(), [*values, app.pk, expected_version, State.DRAFT.value])
        return bool(cursor.rowcount == 1)


def _submitted(app: Application, plan: Submission) -> None:
    """Set the submission's fields on ``app`` (and take its receipt number)."""
    now = plan.now
    app.data = plan.cleaned
    app.state = State.SUBMITTED
    app.submitted_at = app.accepted_at = now
    app.time_limit_days = plan.days
    app.due_at = plan.due_at
    app.fee_fen, app.fee_items = plan.fee_fen, plan.fee_items
    app.number = numbers.receipt_number(app.region_code, timezone.localdate(now))
    app.workflow_state = plan.run.state
    app.next_timer_at = ext.run_timer(plan.run)
    app.updated_at = timezone.now()


def record_submission(user: Any, app: Application, plan: Submission) -> Application:
    """Inside the write transaction: the submission's rows (materials, the application, the
    receipt number, the first tasks, the timeline, the audit event and the notice)."""
    _submitted(app, plan)
    app.save(update_fields=SUBMITTED_FIELDS if app.pk else None)  # a bundle member: new
    return _record_rest(user, app, plan)


def _record_rest(user: Any, app: Application, plan: Submission) -> Application:
    """The submission's rows besides the application's own (stored already)."""
    now = plan.now
    materials.record(user, app, plan.prepared)
    add_event(app, "submitted", _("提交申请,已受理"), at=now, actor=user,
              note=_("受理编号 %(number)s") % {"number": app.number})
    if app.fee_fen and not app.fee_notice_no:
        _open_fee_order(user, app, now)
    progress.write_run(app, plan.flow, actor=user, saved=True)
    audit.record("application.submitted", app, actor=user,
                 detail={"number": app.number, "matter": app.matter_code,
                         "version": app.version_pk})
    ext.notify.notify(user, kind="application.submitted",
                      title=_("您的申请已受理:%(number)s") % {"number": app.number},
                      body=_("%(matter)s 已受理,可在“我的办件”中查看进度。") % {
                          "matter": app.matter_name},
                      link=applicant_link(app))
    return app


def _open_fee_order(user: Any, app: Application, now: datetime) -> None:
    """The fee's order in unified payment (the applicant pays it with its notice number);
    the order says when it is paid (:func:`fee_paid`)."""
    order = ext.payments.create_order(
        title=_("%(matter)s 收费") % {"matter": app.matter_name}, amount_fen=app.fee_fen,
        department_code=app.department_code,
        region_code=ext.orgs.region_of(app.department_code) or "000000",
        source="applications", source_ref=app.number or "", payer=user,
        payer_name=getattr(user, "display_name", "") or user.get_username())
    app.fee_notice_no = order.notice_no
    Application.objects.filter(pk=app.pk).update(fee_notice_no=order.notice_no)
    add_event(app, "fee_order", _("开具缴款单"), at=now,
              note=_("应缴 ¥%(yuan)s,缴款码 %(notice)s") % {
                  "yuan": f"{app.fee_fen / 100:.2f}", "notice": ext.payments.grouped(
                      order.notice_no)})


def fee_order_lapsed(app: Application) -> bool:
    """Whether the application's fee is still due but its order can no longer be paid
    (past its deadline, or closed): a new order is needed (:func:`renew_fee_order`)."""
    if not app.fee_fen or app.fee_paid_at is not None or not app.fee_notice_no:
        return False
    try:
        order = ext.payments.get_order(notice_no=app.fee_notice_no)
    except ext.payments.Order.DoesNotExist:
        return True
    return (not ext.payments.payable(order) and order.state != "paid"
            and not ext.payments.awaiting_notification(order))


def renew_fee_order(user: Any, application: Application) -> Application:
    """A new fee order in place of one that lapsed unpaid (past its deadline, or closed),
    asked for by the applicant or by an official who handles the application: the old
    notice number is closed, the new one is on the progress page and the applicant is told.
    Without it an application whose order lapsed could never be approved (the approval
    that issues the licence waits for the fee)."""
    app = Application.objects.get(pk=application.pk)
    official = access.is_official(user)
    if official:
        if not access.may_handle(user, app):
            raise PermissionDenied("not this official's application")
    else:
        access.own_application(user, app)
    if app.state not in OPEN_STATES:
        raise error(_("该办件当前状态不需要缴费。"), "state")
    if not fee_order_lapsed(app):
        raise error(_("缴款单仍可缴款或已缴费,不需要重新开具。"), "not_lapsed")
    now = timezone.now()
    with transaction.atomic():
        old = ext.payments.get_order(notice_no=app.fee_notice_no)
        if old.state == "unpaid":  # past its deadline but not closed yet
            ext.payments.close_order(old.order_no, reason=_("逾期未缴,已重新开具"), actor=user)
        payer = app.applicant
        _open_fee_order(payer, app, now)
        audit.record("application.fee_order_renewed", app, actor=user,
                     detail={"number": app.number, "old": old.notice_no,
                             "new": app.fee_notice_no})
        if official:
            ext.notify.notify(
                payer, kind="application.fee_order", title=_("请缴纳办件 %(number)s 的费用")
                % {"number": app.number}, body=_("缴款单已重新开具,应缴 ¥%(yuan)s,缴款码 "
                                                  "%(notice)s。") % {
                    "yuan": f"{app.fee_fen / 100:.2f}",
                    "notice": ext.payments.grouped(app.fee_notice_no)},
                link=applicant_link(app))
    return app


def _close_fee_order(app: Application, actor: Any) -> None:
    order = ext.payments.get_order(notice_no=app.fee_notice_no)
    if ext.payments.payable(order) and not ext.payments.awaiting_notification(order):
        ext.payments.close_order(order.order_no, reason=_("申请已撤回"), actor=actor)


def fee_paid(order: Any) -> None:
    """Unified payment's word that an application's fee order was paid (idempotent)."""
    app = Application.objects.filter(number=order.source_ref).first()
    if app is None or not Application.objects.filter(
            pk=app.pk, fee_paid_at__isnull=True).update(fee_paid_at=order.paid_at):
        return  # unknown, or told already
    add_event(app, "fee_paid", _("已缴费"), at=order.paid_at,
              note=_("缴款码 %(notice)s") % {"notice": ext.payments.grouped(order.notice_no)})


# --- correction and withdrawal -------------------------------------------------------------

def submit_correction(user: Any, application: Application, *, data: Mapping[str, Any],
                      expected_version: int | None = None,
                      reuse: Mapping[str, tuple[str, bool]] | None = None) -> Application:
    """Send the corrected application (补正) back: re-validated in full, its new files
    (upload tokens in ``data``, or ``reuse`` licences) checked and attached in the same
    transaction — a correction refused leaves the application as it was; the clock starts
    again and its due time moves by the working days it stood still; the waiting tasks go
    back to the officials' inboxes."""
    app = _fresh(user, application)
    if app.state != State.CORRECTION:
        raise error(_("该办件当前不需要补正。"), "state")
    version = ext.get_version(app.version_pk)
    merged = with_attached_files(version, app, as_dict(data))
    # A licence chosen now counts as the material it replaces (checked by prepare()).
    chosen = {key for key, (identifier, _c) in (reuse or {}).items() if identifier}
    cleaned = _validate_with(version, app, merged, chosen) if chosen else validate(
        version, app, merged)
    prepared = materials.prepare(user, version, app, cleaned, compare=True, reuse=reuse)
    expected = app.row_version if expected_version is None else expected_version
    return _correct(user, app.pk, cleaned, prepared, expected)


def _validate_with(version: Any, app: Application, data: dict[str, Any],
                   extra_licence_keys: set[str]) -> dict[str, Any]:
    try:
        return validate(version, app, data)
    except ext.forms.SubmissionInvalid as exc:
        left = {path: msgs for path, msgs in exc.errors.items()
                if path.split("[")[0].split(".")[0] not in extra_licence_keys}
        if left:
            raise ext.forms.SubmissionInvalid(left) from None
        return dict(ext.forms.validate_submission(ext.version_form(version), data,
                                                  partial=True))


@transaction.atomic
def _correct(user: Any, app_pk: int, cleaned: dict[str, Any], prepared: materials.Prepared,
             expected_version: int | None) -> Application:
    swap_version(app_pk, expected_version)
    app = locked(app_pk)
    if app.state != State.CORRECTION:
        raise error(_("该办件当前不需要补正。"), "state")
    materials.record(user, app, prepared)
    now = timezone.now()
    app.data = cleaned
    days = clock.resume(app, now)
    app.state = State.IN_REVIEW
    app.save()
    waiting = list(app.tasks.filter(state=TaskState.WAITING).select_related("claimed_by"))
    app.tasks.filter(state=TaskState.WAITING).update(state=TaskState.OPEN)
    add_event(app, "corrected", _("已提交补正材料"), at=now, actor=user)
    audit.record("application.corrected", app, actor=user,
                 detail={"number": app.number, "paused_days": days})
    progress.refresh_parent(app, now)
    for task in waiting:
        if task.claimed_by is not None:
            ext.notify.notify(task.claimed_by, kind="application.corrected",
                              title=_("办件 %(number)s 已补正") % {"number": app.number},
                              link=official_link(app))
    return app


@transaction.atomic
def withdraw_application(user: Any, application: Application, *, reason: str = "",
                         expected_version: int | None = None) -> Application:
    """Withdraw an application that is not decided yet (撤回); its tasks leave the inboxes."""
    access.own_application(user, application)
    swap_version(application.pk, expected_version)
    app = locked(application.pk)
    if app.state not in WITHDRAWABLE:
        raise error(_("已办结的申请不能撤回。"), "state")
    now = timezone.now()
    # A bundle's members still running are withdrawn with it.
    for one in [app, *app.children.select_for_update().filter(state__in=WITHDRAWABLE)]:
        one.state = State.WITHDRAWN
        one.decided_at = now
        one.paused_at = None
        one.next_timer_at = None
        one.save()
        one.tasks.filter(state__in=[TaskState.OPEN, TaskState.WAITING]).update(
            state=TaskState.CANCELLED)
        add_event(one, "withdrawn", _("申请人撤回申请"), at=now, actor=user,
                  note=reason[:500])
        if one.fee_notice_no and one.fee_paid_at is None:  # nothing to pay any more
            _close_fee_order(one, user)
    audit.record("application.withdrawn", app, actor=user, detail={"number": app.number})
    progress.refresh_parent(app, now)
    return app

