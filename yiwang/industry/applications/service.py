"""Public facade of the applications app (办件): the whole life of an application, from the
citizen's draft to the decision and the licence in their wallet.

Other apps, views, API endpoints and tasks call these functions only. Writes are
verb-named, each one transaction, audited, raising ``ValidationError`` with a Chinese message
a person can act on (``SubmissionInvalid`` with a message per field for form data). The
officials' writes take the ``row_version`` they saw (``expected_version``): of two acting at
once, one wins and the other is told plainly.

The work is done in :mod:`.lifecycle` (drafts, submission, correction, withdrawal),
:mod:`.evaluations` (好差评 and the follow-up of a bad one, 差评整改), :mod:`.materials`
(the fields' file rules, uploads, reused licences), :mod:`.bundles`, :mod:`.review` (claim,
decide, ask for correction), :mod:`.progress` (the approval flow's tasks, the decision,
licence and ledger), :mod:`.clock` (time limits on the working calendar), :mod:`.queries`
(inbox and lists) and :mod:`.access` (who sees what).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError

from yiwang.core.uploads.service import file_response
from yiwang.industry.applications import clock
from yiwang.industry.applications.access import (
    department_codes,
    is_representative,
    may_act_on_task,
    may_handle,
    may_view_as_applicant,
)
from yiwang.industry.applications.bundles import submit_bundle
from yiwang.industry.applications.downloads import (
    material_for_applicant,
    material_for_official,
)
from yiwang.industry.applications.evaluations import (
    LEVELS,
    RECTIFICATION_FILTERS,
    SCORE_FILTERS,
    EvaluationFilter,
    Figures,
    PublicFigures,
    Summary,
    evaluate_application,
    evaluation_for_official,
    evaluation_matters,
    evaluation_of,
    evaluation_summary,
    evaluations_for_official,
    public_satisfaction,
    rectify_evaluation,
)
from yiwang.industry.applications.lifecycle import (
    fee_order_lapsed,
    renew_fee_order,
    save_draft,
    submit_application,
    submit_correction,
    withdraw_application,
)
from yiwang.industry.applications.materials import (
    accept_files,
    accept_material,
    attach_upload,
    file_rule,
    owner_key,
    reuse_licence,
    upload_material,
)
from yiwang.industry.applications.models import (
    ACTIVE_STATES,
    FINAL_STATES,
    Application,
    Evaluation,
    Event,
    Material,
    MaterialSource,
    Rectification,
    RectificationState,
    State,
    Task,
    TaskState,
)
from yiwang.industry.applications.queries import (
    COUNT_CAP,
    InboxPage,
    application_for_applicant,
    application_for_official,
    applications_of,
    inbox,
    materials_of,
    open_task_rows,
    open_tasks,
    timeline,
)
from yiwang.industry.applications.review import (
    claim_task,
    decide_task,
    request_correction,
)

__all__ = [
    "ACTIVE_STATES",
    "COUNT_CAP",
    "FINAL_STATES",
    "LEVELS",
    "RECTIFICATION_FILTERS",
    "SCORE_FILTERS",
    "Application",
    "Evaluation",
    "EvaluationFilter",
    "Event",
    "Figures",
    "InboxPage",
    "Material",
    "MaterialSource",
    "PublicFigures",
    "Rectification",
    "RectificationState",
    "State",
    "Summary",
    "Task",
    "TaskState",
    "accept_files",
    "accept_material",
    "application_for_applicant",
    "application_for_official",
    "applications_of",
    "attach_upload",
    "claim_task",
    "credit_check",
    "decide_task",
    "department_codes",
    "evaluate_application",
    "evaluation_for_official",
    "evaluation_matters",
    "evaluation_of",
    "evaluation_summary",
    "evaluations_for_official",
    "fee_order_lapsed",
    "file_response",
    "file_rule",
    "get_task",
    "inbox",
    "is_representative",
    "material_for_applicant",
    "material_for_official",
    "materials_of",
    "matter_version",
    "may_act_on_task",
    "may_handle",
    "may_view_as_applicant",
    "open_task_rows",
    "open_tasks",
    "owner_key",
    "public_satisfaction",
    "rectify_evaluation",
    "renew_fee_order",
    "request_correction",
    "reuse_licence",
    "save_draft",
    "submit_application",
    "submit_bundle",
    "submit_correction",
    "tick_clocks",
    "timeline",
    "upload_material",
    "withdraw_application",
]


def tick_clocks(now: datetime | None = None) -> dict[str, int]:
    """Warnings before the due time, overdue escalation to the department's lead position
    and the approval flows' timers, due at ``now`` (the periodic ``applications.tick_clocks``;
    idempotent)."""
    return clock.tick(now)


def credit_check(app: Application, actor: Any) -> Any:
    """The credit check of the party an application is for (联合奖惩): the enterprise it
    was filed for, else the applicant; None when the applicant has no verified ID number.
    Audited by the credit platform with the application's number as the purpose."""
    from yiwang.industry.applications import integration

    code = app.acting_for or getattr(app.applicant, "id_number", "")
    if not code:
        return None
    try:
        return integration.credit.check(code, purpose=f"application:{app.number}",
                                        actor=actor)
    except ValidationError:  # not a code the credit platform knows how to read
        return None


def get_task(pk: Any) -> Task | None:
    """A task by primary key, or None."""
    try:
        return Task.objects.select_related("application").filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def matter_version(app: Application) -> Any:
    """The catalogue version the application was made for (it never changes)."""
    from yiwang.industry.applications import integration

    return integration.get_version(app.version_pk)
