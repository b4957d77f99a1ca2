"""The applicant's side of an application: drafts, materials, submission, correction,
withdrawal and evaluation. Each write is one transaction (slow reads — OCR of an image — run
before it, so that a writer never holds the database while a model reads a picture)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.industry.applications import access, clock, numbers, progress
from yiwang.industry.applications import integration as ext
from yiwang.industry.applications.common import (
    add_event,
    error,
    locked,
    masked_applicant,
    swap_version,
)
from yiwang.industry.applications.models import (
    Application,
    Evaluation,
    Material,
    MaterialSource,
    State,
    TaskState,
)

EDITABLE = (State.DRAFT, State.CORRECTION)
WITHDRAWABLE = (State.DRAFT, State.SUBMITTED, State.IN_REVIEW, State.CORRECTION)
COMMENT_MAX = 500


def owner_key(user: Any) -> str:
    return f"user:{user.pk}"


def _version_or_error(matter_code: str) -> Any:
    version = ext.published_version(matter_code)
    if version is None:
        raise error(_("事项 %(code)s 暂未开放网上办理,或已停止办理。") % {"code": matter_code},
                    "unpublished")
    return version


def _as_dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise error(_("申请数据格式不正确。"), "data")
    return dict(data)


def _enterprise_name(code: str) -> str:
    if not code:
        return ""
    found = ext.identity.get_enterprise(code)
    return getattr(found, "name", "") if found is not None else ""


@transaction.atomic
def save_draft(user: Any, matter_code: str, data: Mapping[str, Any], *,
               acting_for: str | None = None,
               application: Application | None = None) -> Application:
    """Create or update a draft (草稿) kept on the server, so that it can be resumed on
    another device. ``data`` is checked for types only (``partial``); an agent files for
    an enterprise (``acting_for``, its credit code) under a mandate with 办事申报 scope."""
    cleaned_in = _as_dict(data)
    if application is None:
        version = _version_or_error(matter_code)
        matter = ext.version_matter(version)
        code = access.check_may_file_for(user, acting_for) if acting_for else ""
        department = ext.matter_department(matter)
        dept = ext.orgs.get_department(department)
        app = Application(
            matter_code=matter.code, matter_name=matter.name[:128], version_pk=version.pk,
            applicant=user, acting_for=code, department_code=department,
            region_code=getattr(dept, "region_id", "") or "",
            applicant_masked=masked_applicant(user, _enterprise_name(code)))
    else:
        app = locked(application.pk)
        access.own_application(user, app)
        if app.state != State.DRAFT:
            raise error(_("已提交的申请不能再作为草稿修改。"), "state")
        version = ext.get_version(app.version_pk)
    form = ext.version_form(version)
    cleaned = ext.forms.validate_submission(form, cleaned_in, partial=True)
    app.data = cleaned
    if app.pk:
        app.row_version += 1
    app.save()
    audit.record("application.draft_saved", app, actor=user,
                 detail={"matter": app.matter_code})
    return app


def _file_component(version: Any, data: Mapping[str, Any], key: str) -> dict[str, Any]:
    for component in ext.forms.file_fields(ext.version_form(version), data):
        if component["key"] == key:
            return dict(component)
    raise error(_("该事项没有名为 %(key)s 的材料。") % {"key": key}, "material")


def _ocr(kind: str, token: str, user: Any) -> dict[str, Any]:
    """Read an ID card or a business licence image: ``{"fields": {...}, "problems": [...]}``
    (empty for other files, or when OCR fails: OCR is advice, never a gate)."""
    if not kind:
        return {}
    upload = ext.uploads.get_upload(token)
    if upload is None or not str(upload.content_type).startswith("image/"):
        return {}
    try:
        image = ext.uploads.read_upload(token, actor=user, purpose="application.ocr")
        reading = ext.read_card(kind, image)
    except Exception:  # a model failure must not lose the applicant's upload
        return {"error": True}
    if reading is None:
        return {}
    return {"fields": ext.reading_fields(reading),
            "problems": [str(p) for p in getattr(reading, "problems", [])]}


def attach_upload(user: Any, application: Application, key: str, token: str) -> Material:
    """Attach an upload (already accepted by ``uploads.accept_upload`` with this user's
    owner key) as the material of file field ``key``; an ID card or business licence image
    is read by OCR (before the write transaction)."""
    app = access.own_application(user, application)
    if app.state not in EDITABLE:
        raise error(_("当前状态下不能再添加材料。"), "state")
    version = ext.get_version(app.version_pk)
    component = _file_component(version, app.data, key)
    upload = ext.uploads.get_upload(token)
    if upload is None or upload.owner_key != owner_key(user):
        raise error(_("找不到该上传文件,请重新上传。"), "upload", key)
    kind = ext.ocr_kind(component.get("material", ""))
    reading = _ocr(kind, token, user)
    return _attach(user, app.pk, component, upload, kind, reading)


@transaction.atomic
def _attach(user: Any, app_pk: int, component: dict[str, Any], upload: Any, kind: str,
            reading: dict[str, Any]) -> Material:
    app = locked(app_pk)
    if app.state not in EDITABLE:
        raise error(_("当前状态下不能再添加材料。"), "state")
    ext.uploads.claim_upload(upload.token, owner_key(user))
    key = component["key"]
    data = app.data
    tokens = [t for t in (data.get(key) or []) if isinstance(t, str)]
    if component.get("type") == "signature":
        tokens = []
    limit = int(component.get("max_files") or 10)
    if len(tokens) >= limit:
        raise error(_("“%(label)s”最多可上传 %(n)d 个文件。") % {
            "label": component.get("label", key), "n": limit}, "too_many", key)
    tokens.append(upload.token)
    data[key] = tokens if component.get("type") != "signature" else upload.token
    app.data = data
    app.row_version += 1
    app.save(update_fields=["data_text", "row_version", "updated_at"])
    material = Material.objects.create(
        application=app, key=key, code=component.get("material", ""),
        name=str(component.get("label", ""))[:128], source=MaterialSource.UPLOAD,
        upload_token=upload.token, sha256=upload.sha256, content_type=upload.content_type,
        size=upload.size, ocr_kind=kind)
    if reading:
        material.ocr = reading
        material.save(update_fields=["ocr_text"])
    return material


@transaction.atomic
def reuse_licence(user: Any, application: Application, key: str, licence_identifier: str, *,
                  consent: bool) -> Material:
    """Use a licence from the wallet in place of material ``key`` (免提交), with the
    holder's consent, which is recorded (and the use appears in the licence's record of
    uses). The licence must be one the user may use and of a type the matter accepts."""
    app = locked(access.own_application(user, application).pk)
    if app.state not in EDITABLE:
        raise error(_("当前状态下不能再添加材料。"), "state")
    if not consent:
        raise error(_("使用电子证照代替材料需要您的授权同意。"), "consent", key)
    version = ext.get_version(app.version_pk)
    component = _file_component(version, app.data, key)
    licence = ext.licences.find_by_identifier(licence_identifier or "")
    if licence is None or not ext.licences.licences_of(user).filter(pk=licence.pk).exists():
        raise error(_("找不到该电子证照,或您无权使用。"), "licence", key)
    allowed = _licence_types_for(version, component.get("material", ""))
    if licence.type.code not in allowed:
        raise error(_("“%(label)s”不能用%(type)s代替。") % {
            "label": component.get("label", key), "type": licence.type.name}, "licence_type",
            key)
    if ext.licences.effective_status(licence) != "active":
        raise error(_("该电子证照已失效,不能使用。"), "licence_status", key)
    already = app.materials.filter(key=key, source=MaterialSource.LICENCE,
                                   licence_identifier=licence.identifier).first()
    if already is not None:
        return already
    now = timezone.now()
    material = Material.objects.create(
        application=app, key=key, code=component.get("material", ""),
        name=str(component.get("label", ""))[:128], source=MaterialSource.LICENCE,
        licence_identifier=licence.identifier, consent_at=now)
    ext.licences.record_use(licence, "application", actor=user,
                            detail={"application": app.pk, "material": material.code})
    app.row_version += 1
    app.save(update_fields=["row_version", "updated_at"])
    audit.record("application.licence_reused", app, actor=user,
                 detail={"licence": licence.identifier, "material": material.code})
    return material


def _licence_types_for(version: Any, material_code: str) -> list[str]:
    for item in ext.matter_materials(ext.version_matter(version)):
        if item.get("code") == material_code:
            return list(item.get("licence_types") or [])
    return []


# --- submission ------------------------------------------------------------------------------

def _validate(version: Any, app: Application, data: dict[str, Any]) -> dict[str, Any]:
    """The cleaned data, or ``SubmissionInvalid`` with a message per field; a file field
    satisfied by a reused licence counts as present."""
    form = ext.version_form(version)
    by_licence = set(app.materials.filter(source=MaterialSource.LICENCE)
                     .values_list("key", flat=True)) if app.pk else set()
    try:
        cleaned = ext.forms.validate_submission(form, data)
    except ext.forms.SubmissionInvalid as exc:
        left = {path: msgs for path, msgs in exc.errors.items()
                if path.split("[")[0].split(".")[0] not in by_licence}
        if left:
            raise ext.forms.SubmissionInvalid(left) from None
        cleaned = ext.forms.validate_submission(form, data, partial=True)
    missing: dict[str, list[str]] = {}
    for component in ext.forms.file_fields(form, cleaned):
        key = component["key"]
        if component.get("required") and not cleaned.get(key) and key not in by_licence:
            missing[key] = [_("请上传“%(label)s”或使用电子证照代替。") % {
                "label": component.get("label", key)}]
    if missing:
        raise ext.forms.SubmissionInvalid(missing)
    return dict(cleaned)


def _expected_values(version: Any, data: Mapping[str, Any], user: Any) -> dict[str, str]:
    """What OCR should read, from the form: the ID number and credit code fields, a name."""
    expected: dict[str, str] = {}
    components = list(_walk(ext.version_form(version).get("components", [])))
    for c in components:
        value = data.get(c.get("key", ""))
        if not isinstance(value, str) or not value:
            continue
        if c.get("type") == "id_number":
            expected.setdefault("id_number", value)
        elif c.get("type") == "credit_code":
            expected.setdefault("credit_code", value)
        elif c.get("prefill") == "profile.name" or c.get("key") in ("name", "applicant_name"):
            expected.setdefault("name", value)
    return expected


def _walk(components: list[dict[str, Any]]) -> Any:
    for c in components:
        yield c
        if c.get("type") == "section":
            yield from _walk(c.get("components", []))


def _compare(material: Material, expected: dict[str, str]) -> list[dict[str, str]]:
    fields = material.ocr.get("fields") or {}
    if not fields:
        return []
    wanted = {k: v for k, v in expected.items()
              if (k != "credit_code" or material.ocr_kind == "business_licence")
              and (k != "id_number" or material.ocr_kind == "id_card")}
    if not wanted:
        return []
    reading = ext.ai.CardReading(kind=material.ocr_kind, fields={
        k: ext.ai.FieldValue(str(v), 1.0) for k, v in fields.items() if v is not None})
    return ext.compare(reading, wanted)


def _fee(version: Any, data: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    quote = ext.catalogue.compute_fee(version, data)
    if quote is None:
        return 0, []
    total = getattr(quote, "total_fen", None)
    if total is None:
        total = getattr(quote, "amount_fen", 0)
    items = [ext._plain(i) for i in (getattr(quote, "items", None) or [])]
    return int(total or 0), items


def submit_application(user: Any, application: Application, *,
                       data: Mapping[str, Any] | None = None,
                       expected_version: int | None = None) -> Application:
    """Submit a draft: re-validate against its own version (a message per field, nothing
    saved on error), check materials (uploads claimed, or licences reused with consent),
    compare OCR readings with the form (mismatches stored for applicant and officer), quote
    the fee, start the approval flow, give a receipt number, start the clock and notify."""
    app = access.own_application(user, Application.objects.get(pk=application.pk))
    if app.state != State.DRAFT:
        raise error(_("该申请已提交,不能重复提交。"), "state")
    version = ext.get_version(app.version_pk)
    merged = app.data if data is None else _with_attached_files(version, app, _as_dict(data))
    cleaned = _validate(version, app, merged)
    return _submit(user, app.pk, version, cleaned, expected_version)


def _with_attached_files(version: Any, app: Application, data: dict[str, Any]
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
def _submit(user: Any, app_pk: int, version: Any, cleaned: dict[str, Any],
            expected_version: int | None) -> Application:
    swap_version(app_pk, expected_version)
    app = locked(app_pk)
    if app.state != State.DRAFT:
        raise error(_("该申请已提交,不能重复提交。"), "state")
    _claim_materials(user, app, version, cleaned)
    fee_fen, fee_items = _fee(version, cleaned)
    now = timezone.now()
    matter = ext.version_matter(version)
    app.data = cleaned
    app.state = State.SUBMITTED
    app.submitted_at = app.accepted_at = now
    app.time_limit_days = ext.matter_days(matter)
    app.due_at = clock.due_after(now, app.time_limit_days)
    app.fee_fen, app.fee_items = fee_fen, fee_items
    app.number = numbers.receipt_number(app.region_code, timezone.localdate(now))
    run = ext.workflow.start(ext.version_bpmn(version), cleaned)
    app.save()
    add_event(app, "submitted", _("提交申请,已受理"), at=now, actor=user,
              note=_("受理编号 %(number)s") % {"number": app.number})
    progress.apply_run(app, run, actor=user, now=now, version=version)
    audit.record("application.submitted", app, actor=user,
                 detail={"number": app.number, "matter": app.matter_code,
                         "version": app.version_pk})
    ext.notify.notify(user, kind="application.submitted",
                      title=_("您的申请已受理:%(number)s") % {"number": app.number},
                      body=_("%(matter)s 已受理,可在“我的办件”中查看进度。") % {
                          "matter": app.matter_name},
                      link=f"/applications/{app.pk}/")
    return app


def _claim_materials(user: Any, app: Application, version: Any,
                     cleaned: dict[str, Any]) -> None:
    """Claim the uploads the data names (each must be this user's), record the ones not
    attached through :func:`attach_upload`, and compare OCR readings with the form."""
    form = ext.version_form(version)
    known = {m.upload_token: m for m in app.materials.filter(source=MaterialSource.UPLOAD)}
    expected = _expected_values(version, cleaned, user)
    used: set[str] = set()
    for component in ext.forms.file_fields(form, cleaned):
        value = cleaned.get(component["key"])
        tokens = [value] if isinstance(value, str) else list(value or [])
        for token in tokens:
            used.add(token)
            try:
                upload = ext.uploads.claim_upload(token, owner_key(user))
            except ValidationError:
                raise error(_("“%(label)s”中的文件无效或已过期,请重新上传。") % {
                    "label": component.get("label", component["key"])}, "upload",
                    component["key"]) from None
            material = known.get(token)
            if material is None:
                material = Material.objects.create(
                    application=app, key=component["key"], code=component.get("material", ""),
                    name=str(component.get("label", ""))[:128], source=MaterialSource.UPLOAD,
                    upload_token=token, sha256=upload.sha256,
                    content_type=upload.content_type, size=upload.size)
            if material.ocr.get("fields"):
                reading = material.ocr
                reading["mismatches"] = _compare(material, expected)
                material.ocr = reading
                material.save(update_fields=["ocr_text"])
    # Files detached from the form before submission are not materials.
    app.materials.filter(source=MaterialSource.UPLOAD).exclude(upload_token__in=used).delete()


# --- correction, withdrawal, evaluation ------------------------------------------------------

def submit_correction(user: Any, application: Application, *, data: Mapping[str, Any],
                      expected_version: int | None = None) -> Application:
    """Send the corrected application (补正) back: re-validated in full; the clock starts
    again and its due time moves by the working days it stood still; the waiting tasks go
    back to the officials' inboxes."""
    app = access.own_application(user, Application.objects.get(pk=application.pk))
    if app.state != State.CORRECTION:
        raise error(_("该办件当前不需要补正。"), "state")
    version = ext.get_version(app.version_pk)
    cleaned = _validate(version, app, _with_attached_files(version, app, _as_dict(data)))
    return _correct(user, app.pk, version, cleaned, expected_version)


@transaction.atomic
def _correct(user: Any, app_pk: int, version: Any, cleaned: dict[str, Any],
             expected_version: int | None) -> Application:
    swap_version(app_pk, expected_version)
    app = locked(app_pk)
    if app.state != State.CORRECTION:
        raise error(_("该办件当前不需要补正。"), "state")
    _claim_materials(user, app, version, cleaned)
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
                              link=f"/applications/{app.pk}/")
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
    audit.record("application.withdrawn", app, actor=user, detail={"number": app.number})
    progress.refresh_parent(app, now)
    return app


@transaction.atomic
def evaluate_application(user: Any, application: Application, *, score: int,
                         comment: str = "") -> Evaluation:
    """The applicant's evaluation (好差评) of a decided application: 1–5, once."""
    app = access.own_application(user, application)
    if app.state not in (State.APPROVED, State.REJECTED):
        raise error(_("办结后才能评价。"), "state")
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise error(_("评分须为 1 到 5 分。"), "score", "score")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise error(_("评价内容不能超过 %(n)d 个字。") % {"n": COMMENT_MAX}, "comment",
                    "comment")
    try:
        with transaction.atomic():
            evaluation = Evaluation.objects.create(application=app, score=score,
                                                   comment=comment)
    except IntegrityError:
        raise error(_("该办件已评价过,每件只能评价一次。"), "evaluated") from None
    audit.record("application.evaluated", app, actor=user, detail={"score": score})
    return evaluation



# --- bundles (一件事一次办) -------------------------------------------------------------------

def submit_bundle(user: Any, bundle_code: str, data: Mapping[str, Any], *,
                  acting_for: str | None = None) -> Application:
    """Apply for a bundle with one form: the bundle's data is validated against its form,
    projected onto each member matter's form (each validated against its live version), and
    one application per member is submitted to its department, under a parent application
    with its own receipt number that tracks them as one. All or nothing."""
    bundle = ext.catalogue.published_bundle(bundle_code)
    if bundle is None:
        raise error(_("该“一件事”暂未开放网上办理。"), "unpublished")
    cleaned = dict(ext.forms.validate_submission(bundle.form, _as_dict(data)))
    members = []
    problems: dict[str, list[str]] = {}
    for member in bundle.members:
        projected = ext.catalogue.project_member_data(member, cleaned)
        try:
            member_data = dict(ext.forms.validate_submission(member.version.form, projected))
        except ext.forms.SubmissionInvalid as exc:
            for path, messages in exc.errors.items():
                problems.setdefault(path, []).extend(
                    f"{member.matter_name}:{m}" for m in messages)
            continue
        members.append((member, member_data))
    if problems:
        raise ext.forms.SubmissionInvalid(problems)
    code = access.check_may_file_for(user, acting_for) if acting_for else ""
    return _submit_bundle(user, bundle, cleaned, members, code)


@transaction.atomic
def _submit_bundle(user: Any, bundle: Any, cleaned: dict[str, Any],
                   members: list[tuple[Any, dict[str, Any]]], code: str) -> Application:
    now = timezone.now()
    masked = masked_applicant(user, _enterprise_name(code))
    dept = ext.orgs.get_department(bundle.department_code)
    region = getattr(dept, "region_id", "") or ""
    parent = Application.objects.create(
        matter_code=bundle.code, matter_name=bundle.name[:128], version_pk=0,
        bundle_code=bundle.code, applicant=user, acting_for=code,
        department_code=bundle.department_code, region_code=region,
        applicant_masked=masked, state=State.SUBMITTED, submitted_at=now, accepted_at=now,
        number=numbers.receipt_number(region, timezone.localdate(now)))
    parent.data = cleaned
    parent.time_limit_days = int(bundle.promised_days or 0)
    parent.due_at = clock.due_after(now, parent.time_limit_days)
    parent.save()
    add_event(parent, "submitted", _("提交“一件事”申请,已受理"), at=now, actor=user,
              note=_("受理编号 %(number)s") % {"number": parent.number})
    for member, member_data in members:
        version = member.version
        matter = ext.version_matter(version)
        department = ext.matter_department(matter)
        member_dept = ext.orgs.get_department(department)
        child = Application.objects.create(
            matter_code=matter.code, matter_name=matter.name[:128], version_pk=version.pk,
            bundle_code=bundle.code, parent=parent, applicant=user, acting_for=code,
            department_code=department, region_code=getattr(member_dept, "region_id", "") or "",
            applicant_masked=masked)
        child.data = member_data
        child.save()
        _submit(user, child.pk, version, member_data, None)
    audit.record("application.bundle_submitted", parent, actor=user,
                 detail={"number": parent.number, "bundle": bundle.code,
                         "members": [m.matter_code for m, _d in members]})
    return parent

