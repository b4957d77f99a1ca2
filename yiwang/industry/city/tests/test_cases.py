"""The life of a city case as its people live it: report, file, automatic dispatch,
handling, verification on site, closure, evaluation; returns, rework, duplicates, conflicts,
permissions, the clock, and the ledger."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yiwang.core.audit.service import AuditEvent
from yiwang.enablement.ledger import service as ledger
from yiwang.industry.city import service
from yiwang.industry.city.testing import NEAR, PLACE, make_city, photo

pytestmark = pytest.mark.django_db
VENDING = "city.e.street_order.vending"


@pytest.fixture
def people() -> dict[str, Any]:
    return make_city()


def _report(people: dict[str, Any], category: str = VENDING, at: tuple[float, float] = PLACE,
            **extra: Any) -> service.Reported:
    citizen = people["citizen"]
    return service.report(source="citizen", category_code=category, title="人行道上有人摆摊",
                          lon=at[0], lat=at[1], reporter=citizen,
                          photos=[photo(citizen)], **extra)


def test_categories_load_idempotently_with_their_organisation_codes(people) -> None:
    assert service.CaseCategory.objects.count() == 39
    assert service.load_categories() == 39
    assert service.CaseCategory.objects.count() == 39
    vending = service.CaseCategory.objects.get(code=VENDING)
    assert (vending.time_limit, vending.limit_unit, vending.parent.name) == (2, "wh", "街面秩序")
    majors = service.category_tree()
    assert [m["category"].name for m in majors][:2] == ["公用设施", "道路交通"]


def test_the_whole_life_of_a_citizen_report(people) -> None:
    case = _report(people).case
    assert case.state == "reported" and case.grid_code == "339901001001001"
    assert case.number.startswith("339901") and len(case.number) == 19
    case = service.transition(case, "file", actor=people["dispatcher"],
                              expected_version=case.row_version)
    # filed and dispatched at once: the bureau answering for street order, its grid's handler
    assert case.state == "dispatched"
    assert (case.department_code, case.assignee) == ("cgj", people["handler"])
    assert case.inspector == people["inspector"]
    assert case.due_at is not None and case.due_at > case.dispatched_at
    case = service.transition(case, "accept", actor=people["handler"])
    assert case.state == "handling"
    with pytest.raises(ValidationError) as no_photo:
        service.transition(case, "handle", actor=people["handler"], note="已劝离")
    assert "photos" in no_photo.value.message_dict
    case = service.transition(case, "handle", actor=people["handler"], note="已劝离摊贩",
                              photos=[photo(people["handler"])])
    assert case.state == "handled" and case.outcome == "已劝离摊贩"
    far = (PLACE[0] + 0.01, PLACE[1])
    with pytest.raises(ValidationError) as not_there:
        service.transition(case, "verify_pass", actor=people["inspector"],
                           photos=[photo(people["inspector"])], lon=far[0], lat=far[1])
    assert "lon" in not_there.value.message_dict
    case = service.transition(case, "verify_pass", actor=people["inspector"],
                              photos=[photo(people["inspector"])], lon=NEAR[0], lat=NEAR[1])
    assert case.state == "closed" and case.closed_on_time is True
    case = service.transition(case, "evaluate", actor=people["citizen"], satisfaction=5,
                              note="处理很快")
    assert case.satisfaction == 5
    actions = list(case.events.values_list("action", flat=True))
    assert actions == ["report", "file", "dispatch", "accept", "handle", "verify_pass",
                       "evaluate"]
    # every step is on the ledger, with no personal data
    entries = [e for e in ledger.entries("main") if e.entry_type == "city.case"]
    assert [json.loads(e.record)["action"] for e in entries] == actions
    assert all("张三" not in str(e.record) for e in entries)
    assert AuditEvent.objects.filter(action="city.case.verify_pass").count() == 1


def test_a_nearby_report_of_the_same_problem_is_a_duplicate(people) -> None:
    first = _report(people).case
    second = _report(people, at=NEAR)
    assert second.case.state == "duplicate" and second.duplicate_of == first
    first.refresh_from_db()
    assert first.duplicate_count == 1
    other_kind = _report(people, category="city.e.environment.litter", at=NEAR)
    assert other_kind.duplicate_of is None
    far = _report(people, at=(PLACE[0] + 0.002, PLACE[1]))
    assert far.duplicate_of is None


def test_a_department_returns_a_case_and_the_centre_redispatches_it(people) -> None:
    case = service.transition(_report(people).case, "file", actor=people["dispatcher"])
    with pytest.raises(ValidationError):
        service.transition(case, "return", actor=people["handler"])  # a reason is required
    case = service.transition(case, "return", actor=people["handler"], note="非本部门职责")
    assert (case.state, case.department_code, case.return_count) == ("returned", "", 1)
    case = service.transition(case, "dispatch", actor=people["dispatcher"],
                              department_code="swj")
    assert (case.state, case.department_code, case.assignee) == (
        "dispatched", "swj", people["water"])


def test_failed_verification_sends_the_case_back_for_rework(people) -> None:
    case = service.transition(_report(people).case, "file", actor=people["dispatcher"])
    case = service.transition(case, "handle", actor=people["handler"], note="已处理",
                              photos=[photo(people["handler"])])
    case = service.transition(case, "verify_fail", actor=people["inspector"], note="摊贩仍在",
                              photos=[photo(people["inspector"])], lon=PLACE[0], lat=PLACE[1])
    assert (case.state, case.rework_count, case.handled_at) == ("handling", 1, None)


def test_two_officials_at_once_one_wins_the_other_is_told(people) -> None:
    case = _report(people).case
    version = case.row_version
    service.transition(case, "file", actor=people["dispatcher"], expected_version=version)
    with pytest.raises(service.Conflict) as lost:
        service.transition(case, "not_file", actor=people["dispatcher"], note="不属实",
                           expected_version=version)
    assert "已被他人处理" in str(lost.value)


def test_who_may_do_what(people) -> None:
    case = service.transition(_report(people).case, "file", actor=people["dispatcher"])
    with pytest.raises(PermissionDenied):
        service.transition(case, "accept", actor=people["water"])  # another department
    with pytest.raises(PermissionDenied):
        service.transition(case, "extend", actor=people["handler"], extra=1)
    with pytest.raises(ValidationError):
        service.transition(case, "verify_pass", actor=people["inspector"])  # not handled yet
    assert service.can_see(people["citizen"], case)
    stranger = make_stranger()
    assert not service.can_see(stranger, case)
    assert not service.list_cases(stranger).exists()
    assert not service.list_cases(people["water"]).exists()
    assert list(service.list_cases(people["handler"], mine=True)) == [case]
    assert list(service.list_cases(people["dispatcher"], state="open")) == [case]


def make_stranger() -> Any:
    from yiwang.industry.city.testing import citizen

    return citizen("someone.else")


def test_bad_reports_are_refused_with_reasons(people) -> None:
    citizen = people["citizen"]
    cases = [
        ({"category_code": "city.e.street_order"}, "category_code"),  # a major class
        ({"category_code": "no.such"}, "category_code"),
        ({"title": " "}, "title"),
        ({"lon": 121.9, "lat": 31.2}, "lon"),
        ({"lon": "east", "lat": 30}, "lon"),
    ]
    for changes, field in cases:
        args = {"source": "citizen", "category_code": VENDING, "title": "摆摊",
                "lon": PLACE[0], "lat": PLACE[1], "reporter": citizen, **changes}
        with pytest.raises(ValidationError) as caught:
            service.report(**args)
        assert field in caught.value.message_dict, changes
    assert not service.Case.objects.exists()


def test_the_clock_warns_then_marks_overdue_and_escalates(people) -> None:
    from yiwang.support.notify import service as notify

    case = service.transition(_report(people).case, "file", actor=people["dispatcher"])
    span = case.due_at - case.dispatched_at
    assert service.tick(case.dispatched_at + span * 0.5) == {"warned": 0, "overdue": 0}
    assert service.tick(case.dispatched_at + span * 0.85) == {"warned": 1, "overdue": 0}
    assert service.tick(case.due_at + timedelta(minutes=1)) == {"warned": 0, "overdue": 1}
    assert service.tick(case.due_at + timedelta(minutes=2)) == {"warned": 0, "overdue": 0}
    case.refresh_from_db()
    assert case.overdue_at is not None
    told = {name for name in ("handler", "head", "water", "dispatcher")
            if any(n.kind == "city.case.overdue"
                   for n in notify.list_notifications(people[name]).object_list)}
    assert told == {"handler", "head"}
    # an extension moves the deadline and lifts the overdue mark
    case = service.transition(case, "extend", actor=people["dispatcher"], extra=2)
    assert case.overdue_at is None and case.extension_count == 1
    assert case.due_at > timezone.now()


def test_statistics_rebuilt_from_the_cases_equal_the_ones_kept_as_they_happened(
        people) -> None:
    from yiwang.industry.city import stats
    from yiwang.industry.city.models import CaseStat

    case = service.transition(_report(people).case, "file", actor=people["dispatcher"])
    case = service.transition(case, "handle", actor=people["handler"], note="好",
                              photos=[photo(people["handler"])])
    service.transition(case, "verify_pass", actor=people["inspector"],
                       photos=[photo(people["inspector"])], lon=PLACE[0], lat=PLACE[1])
    _report(people, at=NEAR)  # a duplicate
    _report(people, category="city.e.environment.litter", at=(120.035, 30.035))

    def snapshot() -> set[tuple[Any, ...]]:
        fields = ("day", "region_code", "dimension", "key", *stats.COUNTERS)
        return {row for row in CaseStat.objects.values_list(*fields)
                if any(row[4:])}

    kept = snapshot()
    assert stats.rebuild() > 0
    assert snapshot() == kept


def test_a_12345_call_is_answered_before_the_call_back(people) -> None:
    from yiwang.industry.city.testing import CENTRE, official

    operator = official("hotline.operator", CENTRE, "city.take_calls")
    case = service.report(source="hotline", category_code=VENDING, title="来电反映路口有摊贩",
                          lon=PLACE[0], lat=PLACE[1], actor=operator, reporter_name="李四",
                          reporter_phone="13800138000").case
    assert case.state == "reported"  # 受理: the command centre decides on filing
    case = service.transition(case, "file", actor=people["dispatcher"])  # 派单
    case = service.transition(case, "accept", actor=people["handler"])  # 办理
    assert "reply" not in service.allowed_actions(case, people["handler"])
    case = service.transition(case, "handle", actor=people["handler"], note="已劝离",
                              photos=[photo(people["handler"])])
    assert "reply" in service.allowed_actions(case, people["handler"])
    assert "reply" in service.allowed_actions(case, operator)
    assert "reply" not in service.allowed_actions(case, people["inspector"])
    case = service.transition(case, "verify_pass", actor=people["inspector"],
                              photos=[photo(people["inspector"])], lon=NEAR[0], lat=NEAR[1])
    with pytest.raises(ValidationError) as early:  # 回访 before 答复
        service.transition(case, "evaluate", actor=operator, satisfaction=4)
    assert early.value.error_dict["action"][0].code == "not_replied"
    with pytest.raises(ValidationError) as empty:
        service.transition(case, "reply", actor=operator, note=" ")
    assert "note" in empty.value.message_dict
    case = service.transition(case, "reply", actor=operator, note="摊贩已劝离，现场已恢复")  # 答复
    assert case.replied_at is not None and case.reply == "摊贩已劝离，现场已恢复"
    case = service.transition(case, "evaluate", actor=operator, satisfaction=4,
                              note="来电人满意")  # 回访 and 评价
    assert case.satisfaction == 4
    assert list(case.events.values_list("action", flat=True))[-3:] == [
        "verify_pass", "reply", "evaluate"]
    # a citizen's own report has no caller to answer
    other = _report(people, at=(PLACE[0] + 0.003, PLACE[1])).case
    other = service.transition(other, "file", actor=people["dispatcher"])
    other = service.transition(other, "handle", actor=people["handler"], note="已处理",
                               photos=[photo(people["handler"])])
    assert "reply" not in service.allowed_actions(other, operator)
    with pytest.raises(PermissionDenied):
        service.transition(other, "reply", actor=people["handler"], note="已处理")
