"""Bundles (一件事一次办): one form, one set of materials, one receipt; each member matter
gets its own application, submitted to its department, under a parent application that
tracks them as one. All or nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.industry.applications import access, clock, materials, numbers
from yiwang.industry.applications import integration as ext
from yiwang.industry.applications.common import add_event, error, masked_applicant
from yiwang.industry.applications.lifecycle import (
    Submission,
    as_dict,
    check_applicant,
    enterprise_name,
    prepare_submission,
    record_submission,
)
from yiwang.industry.applications.models import OPEN_STATES, Application, State


def submit_bundle(user: Any, bundle_code: str, data: Mapping[str, Any], *,
                  acting_for: str | None = None) -> Application:
    """Apply for a bundle with one form: the bundle's data is validated against its form,
    projected onto each member matter's form (each validated against its live version), and
    one application per member is submitted to its department, under a parent application
    with its own receipt number that tracks them as one. Every upload the data names is
    checked (owner, the field's rule) before, and claimed inside, the one transaction."""
    bundle = ext.catalogue.published_bundle(bundle_code)
    if bundle is None:
        raise error(_("该“一件事”暂未开放网上办理。"), "unpublished")
    cleaned = dict(ext.forms.validate_submission(bundle.form, as_dict(data)))
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
    for member, _data in members:
        check_applicant(member.version, code)
    _refuse_repeat(user, bundle, cleaned, code)  # early, before uploads are read
    own = materials.prepare(user, None, None, cleaned, definition=bundle.form, ocr=False)
    plans = [(member, prepare_submission(user, member.version, Application(), member_data))
             for member, member_data in members]
    return _submit_bundle(user, bundle, cleaned, own, plans, code)


def _refuse_repeat(user: Any, bundle: Any, cleaned: dict[str, Any], code: str) -> None:
    """The same person filing the same bundle with the same answers while the first is
    still being handled is a repeat (a second click, a second tab): refused with the first
    one's number, since each member would register the same event twice (a newborn would
    get two ID numbers). Uploaded files are left out of the comparison."""
    files = {c["key"] for c in ext.forms.file_fields(bundle.form, cleaned)}
    answers = {k: v for k, v in cleaned.items() if k not in files}
    earlier = (Application.objects.filter(
        applicant=user, acting_for=code, bundle_code=bundle.code, parent__isnull=True,
        state__in=OPEN_STATES).order_by("-submitted_at")[:5])
    for app in earlier:
        if {k: v for k, v in (app.data or {}).items() if k not in files} == answers:
            raise error(_("您已提交过内容相同的“%(name)s”申请(受理编号 %(number)s),正在办理中,"
                          "请勿重复提交。可在“我的办件”查看进度。")
                        % {"name": bundle.name, "number": app.number}, "repeat")


@transaction.atomic
def _submit_bundle(user: Any, bundle: Any, cleaned: dict[str, Any],
                   own: materials.Prepared, plans: list[tuple[Any, Submission]],
                   code: str) -> Application:
    now = timezone.now()
    # Again under the applicant's row lock: two clicks at once are serialised here (on
    # SQLite the IMMEDIATE transaction serialises them already), and the second finds the first.
    get_user_model().objects.select_for_update().filter(pk=user.pk).values_list(
        "pk", flat=True).first()
    _refuse_repeat(user, bundle, cleaned, code)
    # Every token of the parent's data is this person's and is kept (review L4).
    materials.claim_all(user, own)
    masked = masked_applicant(user, enterprise_name(code))
    region = ext.orgs.region_of(bundle.department_code)
    parent = Application(
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
    for _member, plan in plans:
        matter = ext.version_matter(plan.version)
        department = ext.matter_department(matter)
        child = Application(
            matter_code=matter.code, matter_name=matter.name[:128],
            version_pk=plan.version.pk, bundle_code=bundle.code, parent=parent,
            applicant=user, acting_for=code, department_code=department,
            region_code=ext.orgs.region_of(department), applicant_masked=masked)
        record_submission(user, child, plan)
    audit.record("application.bundle_submitted", parent, actor=user,
                 detail={"number": parent.number, "bundle": bundle.code,
                         "members": [m.matter_code for m, _p in plans]})
    return parent
