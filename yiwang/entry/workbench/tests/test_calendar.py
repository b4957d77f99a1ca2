"""工作日历 in the workbench: access, the year grid, editing a day, importing a year's list
(per-line errors, all or nothing) and counting working days."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from yiwang.core.audit import service as audit
from yiwang.enablement.workflow import service as workflow
from yiwang.entry.portal.testing import unlabelled_inputs
from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def url(name: str, *args: Any) -> str:
    return reverse(name, args=args or None, urlconf="yiwang.urls.internal")


def official(username: str, *perms: str) -> Any:
    user = identity.create_official(username, f"官员{username}", password="y" * 20)
    for dotted in perms:
        label, codename = dotted.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=label,
                                                         codename=codename))
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def keeper(internal_client: Any) -> Any:
    user = official("calendar.keeper", "workflow.manage_calendar")
    sign_in_client(internal_client, user)
    return user


def text(response: Any) -> str:
    return response.content.decode()


# --- access -------------------------------------------------------------------------------

def test_anonymous_signs_in_and_an_official_without_the_permission_gets_403(
        internal_client: Any) -> None:
    pages = (url("workbench:calendar"), url("workbench:calendar_import"),
             url("workbench:calendar_day", "2026-10-01"))
    for page in pages:
        response = internal_client.get(page)
        assert response.status_code == 302 and "login" in response["Location"], page
    sign_in_client(internal_client, official("someone", "audit.view_auditevent"))
    for page in pages:
        assert internal_client.get(page).status_code == 403, page
    assert internal_client.post(url("workbench:calendar_day", "2026-10-01"),
                                {"kind": "holiday", "name": "x"}).status_code == 403
    assert workflow.is_workday(date(2026, 10, 1))  # nothing changed


# --- the grid ------------------------------------------------------------------------------

def test_year_grid_tells_the_kinds_apart_in_text(internal_client: Any, keeper: Any,
                                                 django_assert_max_num_queries: Any) -> None:
    workflow.set_day(date(2026, 10, 1), "holiday", "国庆节")  # a Thursday
    workflow.set_day(date(2026, 10, 10), "workday", "国庆节调休")  # a Saturday
    with django_assert_max_num_queries(8):  # measured 7: 365 days read from one query
        page = text(internal_client.get(url("workbench:calendar") + "?year=2026"))
    assert 'data-testid="month-12"' in page and "工作日历 2026 年" in page
    assert unlabelled_inputs(page) == []

    def cell(day: str) -> str:
        return page.split(f'data-testid="day-{day}"')[1].split("</a>")[0]

    assert 'data-kind="holiday"' in cell("2026-10-01") and "节假日" in cell("2026-10-01")
    assert "休" in cell("2026-10-01")
    assert 'data-kind="workday"' in cell("2026-10-10") and "调休上班" in cell("2026-10-10")
    assert 'data-kind="weekend"' in cell("2026-10-11") and "周末" in cell("2026-10-11")
    assert 'data-kind="normal"' in cell("2026-10-12") and "工作日" in cell("2026-10-12")
    assert "节假日 1 天、调休上班 1 天" in page
    if getattr(workflow, "calendar_days", None) is not None:
        assert "国庆节" in cell("2026-10-01")
    assert 'data-testid="calendar-empty"' not in page
    # a year nobody has entered the holidays of says so
    later = text(internal_client.get(url("workbench:calendar") + "?year=2031"))
    assert 'data-testid="calendar-empty"' in later and "2031 年尚未录入" in later


def test_bad_year_falls_back_and_is_bounded(internal_client: Any, keeper: Any) -> None:
    assert internal_client.get(url("workbench:calendar") + "?year=abc").status_code == 200
    assert "2100" in text(internal_client.get(url("workbench:calendar") + "?year=99999"))
    assert internal_client.get(url("workbench:calendar_day", "2026-02-30")).status_code == 404


# --- editing a day ------------------------------------------------------------------------

def test_set_edit_and_delete_a_day_audited(internal_client: Any, keeper: Any) -> None:
    day_url = url("workbench:calendar_day", "2026-10-08")
    page = text(internal_client.get(day_url))
    assert "2026-10-08" in page and "目前:工作日" in page and unlabelled_inputs(page) == []
    response = internal_client.post(day_url, {"kind": "holiday", "name": "国庆节"})
    assert response.status_code == 302 and "year=2026" in response["Location"]
    assert not workflow.is_workday(date(2026, 10, 8))
    events = audit.search(audit.AuditFilter(action="workflow.calendar_day"))
    assert events.count() == 1
    assert 'data-testid="day-delete"' in text(internal_client.get(day_url))
    internal_client.post(day_url, {"action": "delete"})
    assert workflow.is_workday(date(2026, 10, 8))
    assert events.count() == 2


def test_a_bad_day_form_is_explained(internal_client: Any, keeper: Any) -> None:
    day_url = url("workbench:calendar_day", "2026-10-08")
    response = internal_client.post(day_url, {"kind": "party", "name": "x" * 65})
    assert response.status_code == 200 and 'data-testid="day-errors"' in text(response)
    assert workflow.is_workday(date(2026, 10, 8))


# --- import ----------------------------------------------------------------------------

GOOD_CSV = ("date,kind,name\n2026-10-01,holiday,国庆节\n2026-10-02,休,国庆节\n"
            "2026-10-10,workday,国庆节调休\n")


def test_import_csv_pasted(internal_client: Any, keeper: Any) -> None:
    assert unlabelled_inputs(text(internal_client.get(url("workbench:calendar_import")))) == []
    workflow.set_day(date(2026, 3, 3), "holiday", "旧的")  # not in the list: replaced
    response = internal_client.post(url("workbench:calendar_import"),
                                    {"year": "2026", "text": GOOD_CSV, "replace": "on"})
    assert response.status_code == 302, text(response)[:3000]
    assert not workflow.is_workday(date(2026, 10, 1))
    assert not workflow.is_workday(date(2026, 10, 2))
    assert workflow.is_workday(date(2026, 10, 10))
    assert workflow.is_workday(date(2026, 3, 3))
    assert audit.search(audit.AuditFilter(action="workflow.calendar_loaded")).exists()


def test_import_json_uploaded(internal_client: Any, keeper: Any) -> None:
    body = json.dumps([{"date": "2026-05-01", "kind": "holiday", "name": "劳动节"},
                       {"date": "2026-05-09", "kind": "workday", "name": "劳动节调休"}])
    upload = SimpleUploadedFile("2026.json", body.encode(), "application/json")
    response = internal_client.post(url("workbench:calendar_import"),
                                    {"year": "2026", "file": upload})
    assert response.status_code == 302
    assert not workflow.is_workday(date(2026, 5, 1)) and workflow.is_workday(date(2026, 5, 9))


def test_import_errors_per_line_and_nothing_saved(internal_client: Any, keeper: Any) -> None:
    bad = ("date,kind,name\n"
           "2026-10-01,holiday,国庆节\n"        # line 2: fine
           "2027-01-01,holiday,元旦\n"          # line 3: another year
           "2026-10-01,holiday,国庆节\n"        # line 4: twice
           "2026-13-01,holiday,x\n"             # line 5: not a date
           "2026-10-03,party,x\n"               # line 6: unknown kind
           f"2026-10-04,holiday,{'长' * 65}\n")  # line 7: name too long
    response = internal_client.post(url("workbench:calendar_import"),
                                    {"year": "2026", "text": bad, "replace": "on"})
    page = text(response)
    assert response.status_code == 200 and 'data-testid="import-errors"' in page
    for expected in ("第 3 行", "不在 2026 年内", "第 4 行", "与第 2 行重复", "第 5 行",
                     "YYYY-MM-DD", "第 6 行", "类型“party”无效", "第 7 行", "64 个字"):
        assert expected in page, expected
    assert page.split('data-testid="import-errors"')[1].split("</ul>")[0].count("<li>") == 5
    assert workflow.is_workday(date(2026, 10, 1))  # all or nothing
    assert not audit.search(audit.AuditFilter(action="workflow.calendar_loaded")).exists()


def test_import_rejects_bad_json_and_empty_input(internal_client: Any, keeper: Any) -> None:
    for body, expected in (('[{"date": "2026-10-01",', "JSON 格式错误"),
                           ('{"days": 3}', "JSON 须是一个列表"),
                           ("", "没有可导入的内容")):
        response = internal_client.post(url("workbench:calendar_import"),
                                        {"year": "2026", "text": body})
        assert expected in text(response), expected
    upload = SimpleUploadedFile("x.csv", "2026-10-01,holiday,国庆".encode("gbk"))
    response = internal_client.post(url("workbench:calendar_import"),
                                    {"year": "2026", "file": upload})
    assert "UTF-8" in text(response)


# --- counting ----------------------------------------------------------------------------

def test_count_working_days(internal_client: Any, keeper: Any) -> None:
    workflow.set_day(date(2026, 10, 1), "holiday", "国庆节")
    workflow.set_day(date(2026, 10, 2), "holiday", "国庆节")
    workflow.set_day(date(2026, 10, 10), "workday", "调休")
    # (2026-09-30, 2026-10-12]: Oct 1–2 holidays, 3–4 weekend, 5–9 working (5),
    # 10 make-up (1), 11 Sunday, 12 Monday (1) → 7
    page = text(internal_client.get(url("workbench:calendar"),
                                    {"year": "2026", "start": "2026-09-30",
                                     "end": "2026-10-12"}))
    result = page.split('data-testid="count-result"')[1].split("</p>")[0]
    assert "7 个工作日" in result
    page = text(internal_client.get(url("workbench:calendar"),
                                    {"start": "2026-10-12", "end": "2026-09-30"}))
    assert "-7 个工作日" in page
    page = text(internal_client.get(url("workbench:calendar"),
                                    {"start": "2026-10-12", "end": "not a date"}))
    assert 'data-testid="count-result"' not in page and "error-message" in page
