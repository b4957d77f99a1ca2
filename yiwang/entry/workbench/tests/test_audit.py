"""审计日志 on the workbench: search, pages, CSV export, permission, auditing the auditors."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.entry.portal.testing import PASSWORD, SmallCity, build_small_city, unlabelled_inputs
from yiwang.entry.workbench import views_audit
from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def grant(user, *perms: str):  # type: ignore[no-untyped-def]
    for dotted in perms:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))
    return user


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def event(action: str = "test.thing", *, at: datetime | None = None, actor: str = "someone",
          **fields) -> audit.AuditEvent:  # type: ignore[no-untyped-def]
    return audit.AuditEvent.objects.create(
        occurred_at=at or timezone.now(), actor_id="99", actor_label=actor, action=action,
        **fields)


def rows(html: str) -> int:
    body = html[html.index("<tbody>"):html.index("</tbody>")] if "<tbody>" in html else ""
    return body.count("<tr>")


@pytest.fixture
def city() -> SmallCity:
    return build_small_city()


@pytest.fixture
def auditor(city):  # type: ignore[no-untyped-def]
    return grant(identity.create_official("auditor", "审计员甲", password=PASSWORD),
                 "audit.view_auditevent")


@pytest.fixture
def auditor_client(internal_client, auditor):  # type: ignore[no-untyped-def]
    sign_in_client(internal_client, auditor)
    return internal_client


def searches() -> list[audit.AuditEvent]:
    return list(audit.search(audit.AuditFilter(action="audit.search")))


# --- access ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/audit/", "/audit/export.csv"])
def test_only_holders_of_the_view_permission_may_search(internal_client, city, path) -> None:
    assert internal_client.get(path).status_code == 302  # anonymous: sign in first
    sign_in_client(internal_client, city.official)  # an official, without the permission
    response = internal_client.get(path)
    assert response.status_code == 403
    assert "没有访问权限" in text(response)
    assert not searches()


def test_the_side_navigation_links_the_audit_log_for_auditors_only(internal_client, city,
                                                                    auditor) -> None:
    sign_in_client(internal_client, city.official)
    assert 'href="/audit/"' not in text(internal_client.get("/"))
    sign_in_client(internal_client, auditor)
    html = text(internal_client.get("/"))
    nav = html[html.index('class="wb-sidenav"'):]
    assert '<a href="/audit/">审计日志</a>' in nav
    assert "/unavailable/audit/" not in html
    assert internal_client.get("/unavailable/audit/").status_code == 404


def test_a_superuser_may_search(internal_client, city) -> None:
    root = identity.create_official("root", "管理员", password=PASSWORD, superuser=True)
    sign_in_client(internal_client, root)
    assert internal_client.get("/audit/").status_code == 200


@pytest.mark.parametrize("path", ["/audit/", "/audit/export.csv"])
def test_the_audit_log_is_not_served_on_the_public_listener(public_client, auditor,
                                                            path) -> None:
    sign_in_client(public_client, auditor)
    assert public_client.get(path).status_code == 404


# --- the page ----------------------------------------------------------------------------

def test_page_is_labelled_and_in_both_languages(auditor_client) -> None:
    event()
    html = text(auditor_client.get("/audit/"))
    assert unlabelled_inputs(html) == []
    assert '<label class="label" for="id_date_from">开始日期</label>' in html
    assert 'type="date"' in html
    assert auditor_client.get("/en/audit/").status_code == 200


def test_columns_show_the_event_in_beijing_time(auditor_client) -> None:
    event("personal_data.read", at=datetime(2025, 3, 1, 16, 30, 5, tzinfo=UTC),
          actor="clerk.wang", object_type="registry.person", object_id="42",
          object_repr="王*", zone="internal", address="10.1.2.3", request_id="req-abc",
          personal_data=True, detail={"purpose": "核查登记信息"})
    response = auditor_client.get("/audit/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = text(response)
    assert "2025-03-02 00:30:05" in html  # 16:30 UTC is half past midnight in Beijing
    for shown in ["clerk.wang", "<code>personal_data.read</code>", "<code>registry.person</code>",
                  "#42", "王*", "政务内网", "10.1.2.3", "涉及", "purpose: 核查登记信息"]:
        assert shown in html, shown
    assert '<a href="/audit/?request_id=req-abc"' in html


def test_filters(auditor_client, auditor) -> None:
    event("registry.person.lookup", actor="alice", object_type="registry.person",
          object_id="7", request_id="r1")
    event("registry.reveal", actor="bob", personal_data=True, request_id="r2")
    event("auth.login", actor="alice", request_id="r1")

    def found(**query) -> int:  # type: ignore[no-untyped-def]
        response = auditor_client.get("/audit/", query)
        assert response.status_code == 200
        return rows(text(response))

    assert found(actor="alice") == 2
    assert found(actor="ali") == 0  # the whole user name
    assert found(action="registry.") == 2  # a prefix
    assert found(object_type="registry.person") == 1
    assert found(object_type="registry.person", object_id="8") == 0
    assert found(request_id="r1") == 2
    assert found(actor="bob", personal_only="on") == 1
    assert found(actor="alice", personal_only="on") == 0
    assert found(actor="alice", action="auth.") == 1


def test_dates_are_beijing_days_and_the_end_date_is_included(auditor_client) -> None:
    shanghai = views_audit.AUDIT_TIME_ZONE
    event("a.early", at=datetime(2025, 3, 1, 23, 59, tzinfo=shanghai))
    event("a.late", at=datetime(2025, 3, 2, 0, 1, tzinfo=shanghai))
    html = text(auditor_client.get("/audit/", {"date_from": "2025-03-02"}))
    assert "a.late" in html and "a.early" not in html
    html = text(auditor_client.get("/audit/", {"date_to": "2025-03-01"}))
    assert "a.early" in html and "a.late" not in html
    html = text(auditor_client.get("/audit/", {"date_from": "2025-03-01",
                                               "date_to": "2025-03-02"}))
    assert "a.early" in html and "a.late" in html


def test_a_malformed_date_is_a_field_error_not_a_crash(auditor_client) -> None:
    event()
    response = auditor_client.get("/audit/", {"date_from": "2025-13-45", "action": "test."})
    assert response.status_code == 200
    html = text(response)
    assert 'class="error-summary"' in html
    assert 'id="id_date_from_error"' in html
    assert 'aria-invalid="true"' in html
    assert "<tbody>" not in html  # no search with a half-understood filter
    assert 'value="test."' in html  # the other filters are kept
    assert not searches()
    reversed_dates = auditor_client.get("/audit/", {"date_from": "2025-03-02",
                                                    "date_to": "2025-03-01"})
    assert reversed_dates.status_code == 200
    assert "结束日期不能早于开始日期" in text(reversed_dates)
    export = auditor_client.get("/audit/export.csv", {"date_to": "yesterday"})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/html")


def test_empty_state_helps(auditor_client) -> None:
    event()
    html = text(auditor_client.get("/audit/", {"date_from": "2000-01-01",
                                               "date_to": "2000-01-02"}))
    assert "没有符合条件的审计事件" in html
    assert "请放宽日期范围" in html
    assert 'href="/audit/">清除全部条件</a>' in html


def test_pages_of_fifty_keep_the_filters(auditor_client) -> None:
    base = timezone.now() - timedelta(hours=1)
    for n in range(120):
        event("bulk.item", at=base + timedelta(seconds=n), object_id=str(n))
    event("other.thing")
    first = text(auditor_client.get("/audit/", {"action": "bulk."}))
    assert rows(first) == 50
    assert "找到 120 个审计事件" in first
    assert 'href="?action=bulk.&amp;page=2"' in first
    assert first.index("#119<") < first.index("#118<")  # newest first
    third = text(auditor_client.get("/audit/", {"action": "bulk.", "page": 3}))
    assert rows(third) == 20
    assert 'href="?action=bulk.&amp;page=2" rel="prev"' in third
    assert "other.thing" not in third


# --- auditing the auditors ---------------------------------------------------------------

def test_each_search_is_recorded_with_its_filters_and_does_not_find_itself(
        auditor_client, auditor) -> None:
    first = text(auditor_client.get("/audit/", {"action": "audit.search"}))
    assert "没有符合条件的审计事件" in first  # its own record is written after the search
    recorded = searches()
    assert len(recorded) == 1
    assert recorded[0].actor_label == "auditor"
    assert recorded[0].actor_id == str(auditor.pk)
    assert recorded[0].zone == "internal"
    assert recorded[0].detail == {"action": "audit.search", "page": 1, "found": 0}
    second = text(auditor_client.get("/audit/", {"action": "audit.search",
                                                 "personal_only": "on",
                                                 "date_from": "2025-01-01"}))
    assert "没有符合条件的审计事件" in second  # the first search is not personal data
    assert searches()[0].detail == {"action": "audit.search", "personal_only": True,
                                    "date_from": "2025-01-01", "page": 1, "found": 0}
    third = text(auditor_client.get("/audit/", {"action": "audit.search"}))
    assert rows(third) == 2


# --- CSV export --------------------------------------------------------------------------

def read_csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_export_is_a_streamed_csv_attachment_of_the_current_filter(auditor_client) -> None:
    event("registry.person.lookup", at=datetime(2025, 3, 1, 16, 30, tzinfo=UTC), actor="alice",
          object_type="registry.person", object_id="7", request_id="r1", zone="internal",
          address="10.0.0.8", personal_data=True, detail={"purpose": "核查"})
    event("auth.login", actor="alice")
    event("=HYPERLINK(\"http://example.com\")", actor="mallory")
    page = text(auditor_client.get("/audit/", {"actor": "alice", "page": "1"}))
    assert 'href="/audit/export.csv?actor=alice"' in page
    response = auditor_client.get("/audit/export.csv", {"actor": "alice", "action": "registry."})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    assert response["Content-Disposition"].endswith('.csv"')
    assert "no-store" in response["Cache-Control"]
    table = read_csv(response)
    assert table[0] == views_audit.EXPORT_COLUMNS
    assert table[1:] == [["2025-03-02T00:30:00+08:00", "99", "alice", "registry.person.lookup",
                          "registry.person", "7", "", "internal", "10.0.0.8", "r1", "true",
                          '{"purpose": "核查"}']]
    everything = read_csv(auditor_client.get("/audit/export.csv"))
    actions = [row[3] for row in everything[1:]]
    assert "'=HYPERLINK(\"http://example.com\")" in actions  # not a formula in a spreadsheet
    assert "audit.export" in actions  # the first export, not the second itself


def test_export_is_recorded_and_capped(auditor_client, monkeypatch) -> None:
    monkeypatch.setattr(views_audit, "EXPORT_LIMIT", 3)
    for n in range(5):
        event("bulk.item", object_id=str(n))
    page = text(auditor_client.get("/audit/", {"action": "bulk."}))
    assert "导出最新的 3 个" in page
    table = read_csv(auditor_client.get("/audit/export.csv", {"action": "bulk."}))
    assert [row[5] for row in table[1:]] == ["4", "3", "2"]
    exports = list(audit.search(audit.AuditFilter(action="audit.export")))
    assert len(exports) == 1
    assert exports[0].actor_label == "auditor"
    assert exports[0].detail == {"action": "bulk.", "rows": 3}


# --- cost --------------------------------------------------------------------------------

def test_page_queries_do_not_grow_with_events(auditor_client, django_assert_max_num_queries
                                              ) -> None:
    for n in range(80):
        event("bulk.item", object_id=str(n), detail={"n": n})
    # session, user, permissions (2), memberships, count, events, and the search's record
    with django_assert_max_num_queries(9):
        response = auditor_client.get("/audit/", {"action": "bulk.", "page": 2})
    assert rows(text(response)) == 30


@pytest.mark.parametrize("params", [{"date_to": "9999-12-31"}, {"date_from": "0001-01-01"}])
@pytest.mark.parametrize("path", ["/audit/", "/audit/export.csv"])
def test_extreme_dates_are_field_errors_not_crashes(auditor_client, params, path) -> None:
    response = auditor_client.get(path, params)
    assert response.status_code in (200, 400)
    if path == "/audit/":
        assert "2099" in text(response)


def test_details_read_as_text_not_python(auditor_client) -> None:
    event("identity.user.update", detail={
        "fields": ["last_login", "password"], "filters": {"action": "auth", "page": 2},
        "personal": True, "found": 0, "note": None,
    })
    chinese = text(auditor_client.get("/audit/", {"action": "identity"}))
    body = chinese[chinese.index("<tbody>"):chinese.index("</tbody>")]
    for shown in ["fields: last_login、password", "filters: action: auth；page: 2",
                  "personal: 是", "found: 0", "note: —"]:
        assert shown in body, shown
    assert "[" not in body and "{" not in body and "True" not in body and "None" not in body
    english = text(auditor_client.get("/en/audit/", {"action": "identity"}))
    body = english[english.index("<tbody>"):english.index("</tbody>")]
    for shown in ["fields: last_login, password", "filters: action: auth; page: 2",
                  "personal: Yes"]:
        assert shown in body, shown


def test_the_table_scrolls_inside_a_named_focusable_region(auditor_client) -> None:
    event()
    html = text(auditor_client.get("/audit/"))
    region = '<div class="table-scroll" role="region" aria-label="审计事件" tabindex="0">'
    assert region in html
    assert html.index(region) < html.index("<table class=\"table table--compact\">")
    english = text(auditor_client.get("/en/audit/"))
    assert 'role="region" aria-label="Audit events" tabindex="0"' in english
