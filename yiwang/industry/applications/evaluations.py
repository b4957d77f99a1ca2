"""好差评 — the applicant's evaluation of a decided application — and the follow-up of a bad
one (差评整改), under the national rules for evaluating government services (国办发〔2019〕51号).

The five levels are 5 非常满意, 4 满意, 3 基本满意, 2 不满意 and 1 非常不满意. 4 and 5 are 好评
(the 好评率 is their share of all evaluations); 1 and 2 are 差评, and each gets a follow-up
(:class:`~.models.Rectification`) of the department that accepted the application, due
``YIWANG_RECTIFICATION_WORKING_DAYS`` working days later on the working calendar (15 by default,
as the rules say). An official of that department records what was done and a reply; the reply
goes on the application's timeline, where the applicant reads it, and into their portal
notifications.

Reads: the officials' list, its filters and summary — their own departments' evaluations, never
another's — and the public figures by department and by matter (aggregates only: no name, no
comment, no receipt number).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, F, Max, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.audit import service as audit
from yiwang.industry.applications import access, clock
from yiwang.industry.applications import integration as ext
from yiwang.industry.applications.common import add_event, error, official_label
from yiwang.industry.applications.links import applicant_link, evaluation_link
from yiwang.industry.applications.models import (
    Application,
    Evaluation,
    Rectification,
    RectificationState,
    State,
)

__all__ = ["BAD_MAX", "GOOD_MIN", "LEVELS", "RECTIFICATION_FILTERS", "SCORE_FILTERS",
           "EvaluationFilter", "Figures", "PublicFigures", "Summary", "evaluate_application",
           "evaluation_for_official", "evaluation_matters", "evaluation_of",
           "evaluation_summary", "evaluations_for_official", "public_satisfaction",
           "rectify_evaluation"]

BAD_MAX = 2  # 不满意, 非常不满意: 差评
GOOD_MIN = 4  # 满意, 非常满意: 好评
COMMENT_MAX = 500
TEXT_MAX = 1000
MATTERS_MAX = 100
LEVELS: dict[int, Promise] = {
    5: gettext_lazy("非常满意"),
    4: gettext_lazy("满意"),
    3: gettext_lazy("基本满意"),
    2: gettext_lazy("不满意"),
    1: gettext_lazy("非常不满意"),
}
SCORE_FILTERS: tuple[tuple[str, Promise], ...] = (
    ("bad", gettext_lazy("差评(不满意、非常不满意)")),
    ("good", gettext_lazy("好评(满意、非常满意)")),
    *((str(n), LEVELS[n]) for n in sorted(LEVELS, reverse=True)),
)
RECTIFICATION_FILTERS: tuple[tuple[str, Promise], ...] = (
    ("pending", gettext_lazy("待整改")),
    ("overdue", gettext_lazy("整改已逾期")),
    ("done", gettext_lazy("已整改")),
    ("late", gettext_lazy("逾期后整改")),
)


# --- the applicant's evaluation ------------------------------------------------------------

def evaluate_application(user: Any, application: Application, *, score: int,
                         comment: str = "") -> Evaluation:
    """The applicant's evaluation (好差评) of a decided application: 1–5, once. A 差评
    (1 or 2) opens its follow-up, due the configured working days later, and tells the
    accepting department's head."""
    app = access.own_application(user, application)
    if app.state not in (State.APPROVED, State.REJECTED):
        raise error(_("办结后才能评价。"), "state")
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if score not in LEVELS:
        raise error(_("评分须为 1 到 5 分。"), "score", "score")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise error(_("评价内容不能超过 %(n)d 个字。") % {"n": COMMENT_MAX}, "comment",
                    "comment")
    # The working calendar is read before the transaction (see lifecycle's docstring).
    due = clock.due_after(timezone.now(), settings.YIWANG_RECTIFICATION_WORKING_DAYS) \
        if score <= BAD_MAX else None
    try:
        with transaction.atomic():
            evaluation = Evaluation.objects.create(
                application=app, score=score, comment=comment, evaluator=user,
                department_code=app.department_code, matter_code=app.matter_code,
                matter_name=app.matter_name)
            if due is not None:
                Rectification.objects.create(evaluation=evaluation,
                                             department_code=app.department_code, due_at=due)
            audit.record("application.evaluated", app, actor=user,
                         detail={"score": score, "rectification": due is not None})
            if due is not None:
                _tell_department(app, evaluation, due)
    except IntegrityError:
        if Evaluation.objects.filter(application=app).exists():
            raise error(_("该办件已评价过,每件只能评价一次。"), "evaluated") from None
        raise  # another constraint: not the person's doing, not to be explained as theirs
    return evaluation


def _tell_department(app: Application, evaluation: Evaluation, due: datetime) -> None:
    for user in clock.lead_officials(app.department_code):
        if not user.has_perm(access.HANDLE_PERMISSION):
            continue  # the link would answer 403: the head is told only if they may act
        ext.notify.notify(
            user, kind="application.bad_evaluation",
            title=_("办件 %(number)s 收到差评") % {"number": app.number},
            body=_("%(matter)s 收到“%(level)s”评价,请于 %(due)s 前完成整改并答复申请人。") % {
                "matter": app.matter_name, "level": LEVELS[evaluation.score],
                "due": timezone.localtime(due).strftime("%Y-%m-%d")},
            link=evaluation_link(evaluation))


def evaluation_of(app: Application) -> Evaluation | None:
    """The application's evaluation with its follow-up (for the applicant's page), or None."""
    return Evaluation.objects.select_related("rectification").filter(application=app).first()


# --- the follow-up (差评整改) ----------------------------------------------------------------

def _text(value: Any) -> str:
    return str(value or "").strip()


def rectify_evaluation(user: Any, evaluation: Any, *, action_taken: str, reply: str,
                       expected_version: int | None = None) -> Rectification:
    """Record the follow-up of a 差评 (``evaluation``: one or its primary key): what the
    department did (``action_taken``, kept internal) and its reply to the applicant, who
    reads it on the application's progress page and is notified. Only an official of the
    accepting department (or the head above its unit) may; the follow-up is written once.
    ``expected_version``: the follow-up's ``row_version`` the page showed — of two officials
    replying at once, one wins and the other is told plainly. A refused reply writes
    nothing."""
    found = evaluation_for_official(user, evaluation)
    rect = _rectification_of(found)
    if rect is None:
        raise error(_("该评价不是差评,无需整改。"), "not_bad")
    action_taken, reply = _text(action_taken), _text(reply)
    problems: dict[str, list[ValidationError]] = {}
    for name, value, empty in (("action_taken", action_taken, _("请填写整改情况。")),
                               ("reply", reply, _("请填写给申请人的答复。"))):
        if not value:
            problems[name] = [ValidationError(empty, code="required")]
        elif len(value) > TEXT_MAX:
            problems[name] = [ValidationError(
                _("不能超过 %(n)d 个字。") % {"n": TEXT_MAX}, code="max_length")]
    if problems:
        raise ValidationError(problems)
    return _write_rectification(user, found, rect, action_taken, reply, expected_version)


def _rectification_of(evaluation: Evaluation) -> Rectification | None:
    try:
        return evaluation.rectification
    except ObjectDoesNotExist:
        return None


@transaction.atomic
def _write_rectification(user: Any, evaluation: Evaluation, rect: Rectification,
                         action_taken: str, reply: str,
                         expected_version: int | None) -> Rectification:
    now = timezone.now()
    # Compare-and-swap: still open, at the version the page showed.
    open_now = Rectification.objects.filter(pk=rect.pk, state=RectificationState.PENDING)
    if expected_version is not None:
        open_now = open_now.filter(row_version=expected_version)
    changed = open_now.update(state=RectificationState.DONE, action_taken=action_taken,
                              reply=reply, handled_by=user, handled_at=now,
                              row_version=F("row_version") + 1)
    if not changed:
        if Rectification.objects.filter(pk=rect.pk, state=RectificationState.DONE).exists():
            raise error(_("该差评已整改并答复申请人,不能重复提交。"), "done")
        raise error(_("该整改记录刚刚已被他人更新,您的提交没有生效。请刷新页面查看后再操作。"),
                    "stale")
    rect.refresh_from_db()
    app = evaluation.application
    add_event(app, "rectified", _("差评整改答复"), at=now, actor=user,
              actor_label=official_label(user), note=reply)
    audit.record("application.rectified", app, actor=user,
                 detail={"number": app.number, "evaluation": evaluation.pk,
                         "late": now > rect.due_at})
    recipient = evaluation.evaluator_id or app.applicant_id
    ext.notify.notify(recipient, kind="application.rectified",
                      title=_("您对办件 %(number)s 的评价已收到答复") % {"number": app.number},
                      body=_("%(matter)s:受理部门已就您的评价作出答复,请在办件进度中查看。") % {
                          "matter": app.matter_name},
                      link=applicant_link(app))
    return rect


# --- the officials' list -------------------------------------------------------------------

def _scope_codes(user: Any) -> list[str]:
    if not access.is_official(user):
        raise PermissionDenied("officials only")
    scope = access.official_scope(user)
    return [*scope.departments, *scope.supervised]


def _key(pk: Any) -> int | None:
    try:
        key = int(pk)
    except (TypeError, ValueError):
        return None
    return key if 0 < key < 2**63 else None


def evaluation_for_official(user: Any, evaluation: Any) -> Evaluation:
    """The evaluation (or one by primary key) if it is of the official's departments;
    PermissionDenied otherwise — also for one that does not exist, so ids cannot be probed."""
    codes = _scope_codes(user)
    key = evaluation.pk if isinstance(evaluation, Evaluation) else _key(evaluation)
    found = Evaluation.objects.select_related("application", "rectification").filter(
        pk=key, department_code__in=codes).first() if key is not None and codes else None
    if found is None:
        raise PermissionDenied("not this official's department")
    return found


@dataclass(frozen=True)
class EvaluationFilter:
    """The list's filters: ``score`` one of :data:`SCORE_FILTERS` (or empty), ``matter`` a
    matter code, ``since`` and ``until`` local days (both included), ``rectification`` one of
    :data:`RECTIFICATION_FILTERS`."""

    score: str = ""
    matter: str = ""
    since: date | None = None
    until: date | None = None
    rectification: str = ""


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _filtered(qs: QuerySet[Evaluation], filters: EvaluationFilter,
              now: datetime) -> QuerySet[Evaluation]:
    if filters.score == "bad":
        qs = qs.filter(score__lte=BAD_MAX)
    elif filters.score == "good":
        qs = qs.filter(score__gte=GOOD_MIN)
    elif filters.score.isdigit() and int(filters.score) in LEVELS:
        qs = qs.filter(score=int(filters.score))
    if filters.matter:
        qs = qs.filter(matter_code=filters.matter)
    # Day bounds as times, so that the (department, created_at) index serves the range.
    if filters.since is not None:
        qs = qs.filter(created_at__gte=_day_start(filters.since))
    if filters.until is not None:
        qs = qs.filter(created_at__lt=_day_start(filters.until + timedelta(days=1)))
    pending = Q(rectification__state=RectificationState.PENDING)
    done = Q(rectification__state=RectificationState.DONE)
    if filters.rectification == "pending":
        qs = qs.filter(pending)
    elif filters.rectification == "overdue":
        qs = qs.filter(pending, rectification__due_at__lt=now)
    elif filters.rectification == "done":
        qs = qs.filter(done)
    elif filters.rectification == "late":
        qs = qs.filter(done, rectification__handled_at__gt=F("rectification__due_at"))
    return qs


def evaluations_for_official(user: Any, filters: EvaluationFilter | None = None, *,
                             now: datetime | None = None) -> QuerySet[Evaluation]:
    """The evaluations of the official's departments (and the units they lead), newest
    first, filtered; with the application's receipt number and masked applicant and the
    follow-up, in one query (the applications' encrypted columns are not read)."""
    codes = _scope_codes(user)
    if not codes:
        return Evaluation.objects.none()
    qs = _filtered(Evaluation.objects.filter(department_code__in=codes),
                   filters or EvaluationFilter(), now or timezone.now())
    return qs.select_related("application", "rectification").only(
        "pk", "score", "comment", "created_at", "department_code", "matter_code",
        "matter_name", "application_id", "application__number",
        "application__applicant_masked", "application__state", "rectification__id",
        "rectification__state", "rectification__due_at", "rectification__handled_at",
    ).order_by("-created_at", "-id")


def evaluation_matters(user: Any) -> list[tuple[str, str]]:
    """The matters the official's departments have evaluations of: (code, name), by code."""
    codes = _scope_codes(user)
    rows = (Evaluation.objects.filter(department_code__in=codes).order_by("matter_code")
            .values("matter_code").annotate(name=Max("matter_name"))[:200])
    return [(r["matter_code"], r["name"]) for r in rows]


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _average(value: Any) -> float | None:
    return round(float(value), 2) if value is not None else None


@dataclass(frozen=True)
class Figures:
    """The figures of a set of evaluations: ``good_rate`` (好评率) and ``rectified_rate``
    (差评整改率) in percent, None without evaluations (or without 差评)."""

    key: str
    name: str
    count: int
    average: float | None
    good_rate: float | None
    bad: int
    rectified: int = 0
    on_time: int = 0
    department: Any = None  # a department row, for its name in the page's language
    bundle: bool = False  # the key is a 一件事's code, not a matter's

    @property
    def rectified_rate(self) -> float | None:
        return _rate(self.rectified, self.bad)


def _aggregates(now: datetime | None = None) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "n": Count("pk"), "avg": Avg("score"),
        "good": Count("pk", filter=Q(score__gte=GOOD_MIN)),
        "bad": Count("pk", filter=Q(score__lte=BAD_MAX)),
        "rectified": Count("pk", filter=Q(rectification__state=RectificationState.DONE)),
        "on_time": Count("pk", filter=Q(rectification__state=RectificationState.DONE,
                                        rectification__handled_at__lte=F(
                                            "rectification__due_at"))),
    }
    if now is not None:
        figures["pending"] = Count("pk", filter=Q(
            rectification__state=RectificationState.PENDING, rectification__due_at__gte=now))
        figures["overdue"] = Count("pk", filter=Q(
            rectification__state=RectificationState.PENDING, rectification__due_at__lt=now))
        figures.update({f"s{n}": Count("pk", filter=Q(score=n)) for n in LEVELS})
    return figures


def _grouped(qs: QuerySet[Evaluation], *fields: str, **extra: Any) -> Any:
    """``qs`` grouped by ``fields`` with the figures of :func:`_aggregates` (and ``extra``)
    of each group, most evaluated first."""
    return qs.values(*fields).annotate(**extra, **_aggregates()).order_by("-n", *fields)


def _figures(key: str, name: str, row: Mapping[str, Any], department: Any = None) -> Figures:
    count = int(row["n"] or 0)
    return Figures(key=key, name=name, count=count, average=_average(row["avg"]),
                   good_rate=_rate(int(row["good"] or 0), count), bad=int(row["bad"] or 0),
                   rectified=int(row["rectified"] or 0), on_time=int(row["on_time"] or 0),
                   department=department)


@dataclass(frozen=True)
class Summary:
    """The summary of the official's list (as filtered): totals, the count of each level,
    the follow-ups open, overdue and done, and the figures of each matter (most evaluated
    first, up to :data:`MATTERS_MAX`)."""

    total: Figures
    levels: list[tuple[int, Promise, int]]
    pending: int
    overdue: int
    matters: list[Figures] = field(default_factory=list)


def evaluation_summary(evaluations: QuerySet[Evaluation], *,
                       now: datetime | None = None) -> Summary:
    """The :class:`Summary` of ``evaluations`` (a queryset of
    :func:`evaluations_for_official`): two aggregate queries."""
    now = now or timezone.now()
    base = evaluations.order_by().select_related(None)
    row = base.aggregate(**_aggregates(now))
    by_matter = _grouped(base, "matter_code", name=Max("matter_name"))[:MATTERS_MAX]
    return Summary(
        total=_figures("", "", row),
        levels=[(n, LEVELS[n], int(row[f"s{n}"] or 0)) for n in sorted(LEVELS, reverse=True)],
        pending=int(row["pending"] or 0), overdue=int(row["overdue"] or 0),
        matters=[_figures(r["matter_code"], r["name"], r) for r in by_matter])


# --- the public figures --------------------------------------------------------------------

@dataclass(frozen=True)
class PublicFigures:
    """What the portal publishes (aggregates only): the totals, each department's figures
    and each matter's (most evaluated first, up to :data:`MATTERS_MAX`)."""

    total: Figures
    departments: list[Figures]
    matters: list[Figures]


def public_satisfaction(*, since: datetime | None = None) -> PublicFigures:
    """The satisfaction figures of every department and matter, of the evaluations made
    since ``since`` (all when None): counts, average score, 好评率, 差评 and how many of
    them were followed up, and in time. Three aggregate queries and one of department
    names; nothing about a person."""
    qs = Evaluation.objects.order_by()
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    total = qs.aggregate(**_aggregates())
    by_department = list(_grouped(qs, "department_code"))
    by_matter = list(_grouped(qs, "matter_code", "department_code",
                              name=Max("matter_name"))[:MATTERS_MAX])
    codes = {r["department_code"] for r in [*by_department, *by_matter]}
    departments = {d.code: d for d in ext.orgs.list_departments(include_inactive=True)
                   .filter(code__in=codes)} if codes else {}

    def name_of(code: str) -> str:
        found = departments.get(code)
        return found.name if found is not None else code

    # a 一件事's own application is evaluated under the bundle's code
    bundles = set(ext.catalogue.list_bundles(published_only=False).filter(
        code__in=[r["matter_code"] for r in by_matter]).values_list("code", flat=True))
    return PublicFigures(
        total=_figures("", "", total),
        departments=[_figures(r["department_code"], name_of(r["department_code"]), r,
                              departments.get(r["department_code"])) for r in by_department],
        matters=[dataclasses.replace(_figures(r["matter_code"], r["name"], r,
                                              departments.get(r["department_code"])),
                                     bundle=r["matter_code"] in bundles) for r in by_matter])
