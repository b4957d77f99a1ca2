"""好差评 through the service: a 差评 opens its follow-up due in working days; the
department's official records it (validated, written once, at the version seen) and the
applicant reads the reply and is notified; officials see and act on their own departments'
evaluations only; the list's filters and summary; the public figures; the whole path through
the portal and the workbench pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.industry.applications import clock
from yiwang.industry.applications import service as applications
from yiwang.industry.applications.testing import (
    decided_application,
    evaluated,
    make_evaluation_city,
)
from yiwang.support.identity.testing import sign_in_client
from yiwang.support.notify import service as notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> dict[str, Any]:
    return make_evaluation_city()


def notifications(user: Any, kind: str) -> list[Any]:
    return list(notify.Notification.objects.filter(recipient=user, kind=kind))


# --- the follow-up opened by a 差评 -----------------------------------------------------------

def test_a_bad_evaluation_opens_a_follow_up_due_in_working_days(people: Any,
                                                                settings: Any) -> None:
    good = evaluated(people, 4)
    assert not applications.Rectification.objects.filter(evaluation=good).exists()
    assert notifications(people["gaj"], "application.bad_evaluation") == []

    settings.YIWANG_RECTIFICATION_WORKING_DAYS = 3
    bad = evaluated(people, 2, comment="等了很久")
    rect = bad.rectification
    assert (rect.state, rect.department_code) == ("pending", "gaj")
    assert rect.due_at == clock.due_after(bad.created_at, 3)  # end of the third working day
    assert (bad.department_code, bad.matter_code, bad.evaluator_id) == (
        "gaj", "339900-gaj-0001", people["citizen"].pk)
    told = notifications(people["gaj"], "application.bad_evaluation")
    assert len(told) == 1 and told[0].link == f"/evaluations/{bad.pk}/"
    assert notifications(people["scjg"], "application.bad_evaluation") == []


def test_the_default_is_fifteen_working_days() -> None:
    from django.conf import settings

    assert settings.YIWANG_RECTIFICATION_WORKING_DAYS == 15


def test_an_empty_reply_is_refused_and_nothing_is_written(people: Any) -> None:
    bad = evaluated(people, 1)
    version = bad.rectification.row_version
    with pytest.raises(ValidationError) as refused:
        applications.rectify_evaluation(people["gaj"], bad.pk, action_taken="已回访核实",
                                        reply="   ", expected_version=version)
    assert refused.value.message_dict == {"reply": ["请填写给申请人的答复。"]}
    with pytest.raises(ValidationError) as both:
        applications.rectify_evaluation(people["gaj"], bad.pk, action_taken="", reply="",
                                        expected_version=version)
    assert set(both.value.message_dict) == {"action_taken", "reply"}
    with pytest.raises(ValidationError) as long:
        applications.rectify_evaluation(people["gaj"], bad.pk, action_taken="好",
                                        reply="长" * 1001, expected_version=version)
    assert "reply" in long.value.message_dict
    rect = applications.Rectification.objects.get(evaluation=bad)
    assert (rect.state, rect.row_version, rect.reply, rect.handled_by_id) == (
        "pending", version, "", None)
    assert not bad.application.events.filter(kind="rectified").exists()
    assert notifications(people["citizen"], "application.rectified") == []
    assert not audit.AuditEvent.objects.filter(action="application.rectified").exists()


def test_the_follow_up_is_recorded_once_and_the_applicant_is_told(people: Any) -> None:
    bad = evaluated(people, 1, comment="窗口态度差")
    rect = applications.rectify_evaluation(
        people["gaj"], bad, action_taken="已约谈窗口人员并组织培训",
        reply="您反映的问题属实,我们已整改,感谢监督。",
        expected_version=bad.rectification.row_version)
    assert (rect.state, rect.handled_by_id, rect.row_version) == ("done", people["gaj"].pk, 2)
    assert not rect.late
    event = bad.application.events.get(kind="rectified")
    assert event.public and event.note == "您反映的问题属实,我们已整改,感谢监督。"
    told = notifications(people["citizen"], "application.rectified")
    assert len(told) == 1
    assert told[0].link == f"/applications/{bad.application_id}/"
    assert bad.application.number in told[0].title
    assert audit.AuditEvent.objects.filter(action="application.rectified",
                                           actor_id=str(people["gaj"].pk)).count() == 1
    with pytest.raises(ValidationError) as again:
        applications.rectify_evaluation(people["gaj"], bad, action_taken="再次", reply="再次",
                                        expected_version=rect.row_version)
    assert again.value.code == "done"
    assert len(notifications(people["citizen"], "application.rectified")) == 1


def test_a_stale_version_is_refused_plainly(people: Any) -> None:
    bad = evaluated(people, 2)
    with pytest.raises(ValidationError) as stale:
        applications.rectify_evaluation(people["gaj"], bad, action_taken="核实", reply="答复",
                                        expected_version=bad.rectification.row_version + 1)
    assert stale.value.code == "stale" and "刷新" in stale.value.messages[0]
    assert applications.Rectification.objects.get(evaluation=bad).state == "pending"


def test_a_good_evaluation_has_nothing_to_follow_up(people: Any) -> None:
    good = evaluated(people, 5)
    with pytest.raises(ValidationError) as refused:
        applications.rectify_evaluation(people["gaj"], good, action_taken="无", reply="无")
    assert refused.value.code == "not_bad"


def test_late_follow_ups_are_marked(people: Any) -> None:
    bad = evaluated(people, 1)
    applications.Rectification.objects.filter(evaluation=bad).update(
        due_at=timezone.now() - timedelta(days=1))
    rect = applications.rectify_evaluation(people["gaj"], bad.pk, action_taken="整改",
                                           reply="答复")
    assert rect.late


# --- who sees what ----------------------------------------------------------------------------

def test_officials_see_and_act_on_their_own_departments_only(people: Any) -> None:
    ours = evaluated(people, 1)
    theirs = evaluated(people, 2, department="scjg", matter=("339900-scjg-0001", "食品经营许可"))
    assert list(applications.evaluations_for_official(people["gaj"])) == [ours]
    assert list(applications.evaluations_for_official(people["scjg"])) == [theirs]
    with pytest.raises(PermissionDenied):
        applications.evaluation_for_official(people["gaj"], theirs.pk)
    with pytest.raises(PermissionDenied):
        applications.evaluation_for_official(people["gaj"], 10**9)  # no such one: the same
    with pytest.raises(PermissionDenied):
        applications.rectify_evaluation(people["gaj"], theirs.pk, action_taken="越权",
                                        reply="越权")
    assert applications.Rectification.objects.get(evaluation=theirs).state == "pending"
    assert applications.evaluation_matters(people["gaj"]) == [
        ("339900-gaj-0001", "无犯罪记录证明")]
    for citizen in (people["citizen"], people["other"]):
        with pytest.raises(PermissionDenied):
            applications.evaluations_for_official(citizen)
        with pytest.raises(PermissionDenied):
            applications.rectify_evaluation(citizen, ours.pk, action_taken="x", reply="x")


# --- the list's filters and summary -----------------------------------------------------------

MATTER_B = ("339900-gaj-0002", "居民身份证换领")


def test_filters_and_summary(people: Any) -> None:
    five = evaluated(people, 5)
    four = evaluated(people, 4)
    two = evaluated(people, 2)
    one = evaluated(people, 1)
    three = evaluated(people, 3, matter=MATTER_B)
    evaluated(people, 1, department="scjg", matter=("339900-scjg-0001", "食品经营许可"))
    official = people["gaj"]

    def pks(**filters: Any) -> set[int]:
        found = applications.evaluations_for_official(
            official, applications.EvaluationFilter(**filters))
        return {e.pk for e in found}

    assert pks() == {five.pk, four.pk, two.pk, one.pk, three.pk}
    assert pks(score="bad") == {two.pk, one.pk}
    assert pks(score="good") == {five.pk, four.pk}
    assert pks(score="3") == {three.pk}
    assert pks(matter=MATTER_B[0]) == {three.pk}

    # dates: the local days, both ends included
    applications.Evaluation.objects.filter(pk=five.pk).update(
        created_at=timezone.now() - timedelta(days=10))
    today = timezone.localdate()
    assert five.pk not in pks(since=today - timedelta(days=1))
    assert pks(until=today - timedelta(days=9)) == {five.pk}
    assert pks(since=today - timedelta(days=10), until=today - timedelta(days=10)) == {five.pk}

    # the follow-up's state: open, overdue, done, done late
    applications.Rectification.objects.filter(evaluation=two).update(
        due_at=timezone.now() - timedelta(hours=1))
    assert pks(rectification="pending") == {two.pk, one.pk}
    assert pks(rectification="overdue") == {two.pk}
    applications.rectify_evaluation(official, two, action_taken="整改", reply="答复")
    assert pks(rectification="done") == pks(rectification="late") == {two.pk}
    assert pks(rectification="overdue") == set()

    summary = applications.evaluation_summary(applications.evaluations_for_official(official))
    total = summary.total
    assert (total.count, total.average, total.good_rate, total.bad, total.rectified) == (
        5, 3.0, 40.0, 2, 1)
    assert [(n, count) for n, _label, count in summary.levels] == [
        (5, 1), (4, 1), (3, 1), (2, 1), (1, 1)]
    assert (summary.pending, summary.overdue) == (1, 0)
    by_matter = {m.key: m for m in summary.matters}
    assert set(by_matter) == {"339900-gaj-0001", MATTER_B[0]}
    first = by_matter["339900-gaj-0001"]
    assert (first.count, first.average, first.good_rate, first.bad) == (4, 3.0, 50.0, 2)
    assert first.name == "无犯罪记录证明"

    bad_only = applications.evaluation_summary(applications.evaluations_for_official(
        official, applications.EvaluationFilter(score="bad")))
    assert (bad_only.total.count, bad_only.total.good_rate) == (2, 0.0)


def test_the_summary_of_nothing(people: Any) -> None:
    summary = applications.evaluation_summary(
        applications.evaluations_for_official(people["gaj"]))
    assert (summary.total.count, summary.total.average, summary.total.good_rate) == (
        0, None, None)
    assert summary.matters == []


# --- the public figures -----------------------------------------------------------------------

def test_public_figures_by_department_and_matter(people: Any) -> None:
    for score in (5, 5, 4, 1):
        evaluated(people, score, comment="个人意见")
    evaluated(people, 3, department="scjg", matter=("339900-scjg-0001", "食品经营许可"))
    bad = applications.Evaluation.objects.get(score=1)
    applications.rectify_evaluation(people["gaj"], bad, action_taken="整改", reply="答复")

    figures = applications.public_satisfaction()
    assert (figures.total.count, figures.total.bad, figures.total.rectified) == (5, 1, 1)
    departments = {f.key: f for f in figures.departments}
    gaj = departments["gaj"]
    assert (gaj.name, gaj.count, gaj.average, gaj.good_rate) == ("示例市公安局", 4, 3.75, 75.0)
    assert (gaj.bad, gaj.rectified, gaj.on_time, gaj.rectified_rate) == (1, 1, 1, 100.0)
    assert departments["scjg"].good_rate == 0.0
    assert [f.key for f in figures.departments] == ["gaj", "scjg"]  # most evaluated first
    matters = {f.key: f for f in figures.matters}
    assert matters["339900-scjg-0001"].department.code == "scjg"

    later = applications.public_satisfaction(since=timezone.now() + timedelta(minutes=1))
    assert later.total.count == 0 and later.departments == [] and later.matters == []


# --- the whole path, through the pages ------------------------------------------------------

def _portal(name: str, *args: Any) -> str:
    return reverse(f"applications_portal:{name}", args=args, urlconf="yiwang.urls.public")


def test_the_applicant_reads_the_reply_on_the_progress_page(
        public_client: Any, internal_client: Any, version: Any, citizen: Any,
        officer: Any) -> None:
    from yiwang.industry.applications.tests.conftest import submitted
    from yiwang.industry.applications.tests.test_lifecycle import approve_all

    app = approve_all(submitted(citizen), officer)
    sign_in_client(public_client, citizen)
    form = public_client.get(_portal("detail", app.pk)).content.decode()
    assert 'data-testid="evaluate-form"' in form and "非常不满意" in form
    public_client.post(_portal("evaluate", app.pk), {"score": "1", "comment": "材料要求不清楚"})
    waiting = public_client.get(_portal("detail", app.pk)).content.decode()
    assert 'data-testid="rectification" data-state="pending"' in waiting
    assert "非常不满意" in waiting

    evaluation = applications.evaluation_of(app)
    assert evaluation is not None
    sign_in_client(internal_client, officer)
    done = internal_client.post(f"/evaluations/{evaluation.pk}/rectify/", {
        "action_taken": "已修订办事指南的材料说明",
        "reply": "已在办事指南中补充材料示例,感谢您的意见。",
        "expected_version": evaluation.rectification.row_version})
    assert done.status_code == 302

    page = public_client.get(_portal("detail", app.pk)).content.decode()
    assert 'data-testid="rectification" data-state="done"' in page
    assert "已在办事指南中补充材料示例,感谢您的意见。" in page
    assert "已修订办事指南的材料说明" not in page  # what was done stays internal
    assert 'data-testid="event-rectified"' in page
    inbox = public_client.get("/notifications/").content.decode()
    assert f"您对办件 {app.number} 的评价已收到答复" in inbox


def test_the_migration_fills_in_earlier_evaluations(people: Any) -> None:
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "yiwang.industry.applications.migrations.0004_evaluation_follow_up")
    # as evaluations were stored before: no department, matter or evaluator, no follow-up
    bad = applications.Evaluation.objects.create(
        application=decided_application(people["citizen"]), score=1)
    good = applications.Evaluation.objects.create(
        application=decided_application(people["citizen"], department="scjg"), score=5)
    migration.fill_in(apps, None)
    bad.refresh_from_db()
    assert (bad.department_code, bad.matter_code, bad.matter_name, bad.evaluator_id) == (
        "gaj", "339900-gaj-0001", "无犯罪记录证明", people["citizen"].pk)
    due = timezone.localtime(bad.rectification.due_at)
    assert due.weekday() < 5 and (due.hour, due.minute) == (23, 59)
    assert timedelta(days=15) <= due - timezone.now() <= timedelta(days=24)
    assert not applications.Rectification.objects.filter(evaluation=good).exists()


def test_a_head_who_may_not_handle_applications_is_not_sent_a_link(people: Any) -> None:
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions import testing as regions_testing
    from yiwang.support.identity import service as identity

    orgs.create_department("swj", "税务局", region_code=regions_testing.CITY)
    head = identity.create_official("swj.head", "税务局局长", password="head-officer-123")
    orgs.add_member(head, department_code="swj")  # no 办理办件 permission
    bad = evaluated(people, 1, department="swj", matter=("339900-swj-0001", "纳税申报"))
    assert bad.rectification.state == "pending"  # the follow-up is open all the same
    assert notifications(head, "application.bad_evaluation") == []
