"""好差评 in the workbench as officials use it: the police see their own evaluations (never
market regulation's, whose pages are a 404 to them), filter them, read the summary and the
chart's figures, follow up a 差评 — refused with a message when the reply is empty, nothing
written — and see the overdue ones flagged. A citizen gets none of these pages."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.industry.applications import service as applications
from yiwang.industry.applications.testing import (
    evaluated,
    make_evaluation_city,
)
from yiwang.support.identity.testing import sign_in_client
from yiwang.support.notify import service as notify

pytestmark = pytest.mark.django_db
FOOD = ("339900-scjg-0001", "食品经营许可")
ID_CARD = ("339900-gaj-0002", "居民身份证换领")


@pytest.fixture
def people() -> dict[str, Any]:
    return make_evaluation_city()


def _text(response: Any, status: int = 200) -> str:
    assert response.status_code == status, response.status_code
    return response.content.decode()


def rows(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-testid="evaluation-row" data-evaluation="(\d+)"',
                                         html)}


def test_anonymous_visitors_sign_in_and_citizens_are_refused(internal_client: Any,
                                                             people: Any) -> None:
    bad = evaluated(people, 1)
    pages = ["/evaluations/", f"/evaluations/{bad.pk}/"]
    for path in pages:
        response = internal_client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    sign_in_client(internal_client, people["citizen"])
    for path in pages:
        assert internal_client.get(path).status_code == 403, path
    refused = internal_client.post(f"/evaluations/{bad.pk}/rectify/",
                                   {"action_taken": "x", "reply": "x"})
    assert refused.status_code == 403
    assert applications.Rectification.objects.get(evaluation=bad).state == "pending"


def test_an_official_sees_only_their_departments_evaluations(internal_client: Any,
                                                             people: Any) -> None:
    ours = evaluated(people, 2, comment="等待时间太长")
    theirs = evaluated(people, 1, department="scjg", matter=FOOD, comment="另一部门的差评")
    sign_in_client(internal_client, people["gaj"])
    html = _text(internal_client.get("/evaluations/"))
    assert rows(html) == {ours.pk}
    assert "另一部门的差评" not in html and FOOD[1] not in html
    assert "等待时间太长" in html
    assert "李*" in html and "李小明" not in html  # the applicant, masked
    assert 'data-testid="summary-count">1<' in html
    nav = html[html.index('class="wb-sidenav"'):html.index("</nav>", html.index("wb-sidenav"))]
    assert 'href="/evaluations/" aria-current="page"' in nav

    # another department's evaluation: a 404, and nothing can be done to it
    assert internal_client.get(f"/evaluations/{theirs.pk}/").status_code == 404
    assert internal_client.get("/evaluations/999999/").status_code == 404
    posted = internal_client.post(f"/evaluations/{theirs.pk}/rectify/", {
        "action_taken": "越权", "reply": "越权", "expected_version": "1"})
    assert posted.status_code == 404
    assert applications.Rectification.objects.get(evaluation=theirs).state == "pending"

    internal_client.logout()
    sign_in_client(internal_client, people["scjg"])
    assert rows(_text(internal_client.get("/evaluations/"))) == {theirs.pk}
    assert internal_client.get(f"/evaluations/{ours.pk}/").status_code == 404


def test_filters(internal_client: Any, people: Any) -> None:
    five = evaluated(people, 5)
    two = evaluated(people, 2)
    one = evaluated(people, 1, matter=ID_CARD)
    applications.Evaluation.objects.filter(pk=five.pk).update(
        created_at=timezone.now() - timedelta(days=30))
    applications.Rectification.objects.filter(evaluation=two).update(
        due_at=timezone.now() - timedelta(days=1))
    sign_in_client(internal_client, people["gaj"])
    get = internal_client.get

    assert rows(_text(get("/evaluations/?score=bad"))) == {two.pk, one.pk}
    assert rows(_text(get("/evaluations/?score=5"))) == {five.pk}
    assert rows(_text(get(f"/evaluations/?matter={ID_CARD[0]}"))) == {one.pk}
    today = timezone.localdate()
    assert rows(_text(get(f"/evaluations/?since={today.isoformat()}"))) == {two.pk, one.pk}
    old = (today - timedelta(days=30)).isoformat()
    assert rows(_text(get(f"/evaluations/?since={old}&until={old}"))) == {five.pk}
    overdue = _text(get("/evaluations/?rectification=overdue"))
    assert rows(overdue) == {two.pk} and 'data-testid="overdue"' in overdue
    assert 'data-testid="summary-overdue"><strong' in overdue
    assert rows(_text(get("/evaluations/?rectification=pending"))) == {two.pk, one.pk}
    # a filter the page cannot read is left out, and the official is told
    odd = _text(get("/evaluations/?since=31-01-2026&score=nonsense"))
    assert rows(odd) == {five.pk, two.pk, one.pk} and 'data-testid="filter-problem"' in odd
    swapped = _text(get(f"/evaluations/?since={today.isoformat()}&until={old}"))
    assert rows(swapped) == {five.pk, two.pk, one.pk} and "晚于" in swapped
    empty = _text(get("/evaluations/?score=3"))
    assert 'data-testid="evaluations-empty"' in empty


def test_summary_and_chart_figures(internal_client: Any, people: Any) -> None:
    for score in (5, 4, 3, 1):
        evaluated(people, score)
    evaluated(people, 5, matter=ID_CARD)
    sign_in_client(internal_client, people["gaj"])
    html = _text(internal_client.get("/evaluations/"))
    assert 'data-testid="summary-count">5<' in html
    assert 'data-testid="summary-average">3.60<' in html
    assert 'data-testid="summary-good-rate">60.0%<' in html
    assert 'data-testid="summary-bad">1<' in html
    assert 'data-level="1">1<' in html and 'data-level="2">0<' in html
    found = re.search(r'<script id="evaluations-chart-data" type="application/json">(.*?)'
                      r"</script>", html, re.S)
    assert found
    chart = json.loads(found.group(1))
    assert chart[0] == {"name": "无犯罪记录证明", "count": 4, "average": 3.25,
                        "good_rate": 50.0, "bad": 1}
    assert 'src="/static/vendor/echarts/echarts.min.js"' in html  # from npm, never a CDN


def test_the_list_is_paged_in_a_fixed_number_of_queries(internal_client: Any,
                                                        people: Any) -> None:
    for _n in range(3):
        evaluated(people, 2)
    sign_in_client(internal_client, people["gaj"])
    internal_client.get("/evaluations/")  # the session and the scope are read once
    with CaptureQueriesContext(connection) as few:
        _text(internal_client.get("/evaluations/"))
    for _n in range(22):
        evaluated(people, 1)
    with CaptureQueriesContext(connection) as many:
        first = _text(internal_client.get("/evaluations/"))
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(rows(first)) == 20 and 'data-testid="evaluation-count">共 25 条' in first
    second = _text(internal_client.get("/evaluations/?score=bad&page=2"))
    assert len(rows(second)) == 5
    assert 'href="?score=bad&amp;page=1"' in second  # paging keeps the filters


def test_following_up_a_bad_evaluation(internal_client: Any, people: Any) -> None:
    bad = evaluated(people, 1, comment="窗口态度差")
    sign_in_client(internal_client, people["gaj"])
    page = _text(internal_client.get(f"/evaluations/{bad.pk}/"))
    assert 'data-testid="rectify-form"' in page and "窗口态度差" in page
    assert 'name="expected_version" value="1"' in page

    refused = internal_client.post(f"/evaluations/{bad.pk}/rectify/", {
        "action_taken": "已回访核实", "reply": "", "expected_version": "1"})
    html = _text(refused, 400)
    assert 'data-testid="errors"' in html and "请填写给申请人的答复。" in html
    assert "已回访核实" in html  # what was typed is kept
    rect = applications.Rectification.objects.get(evaluation=bad)
    assert (rect.state, rect.row_version) == ("pending", 1)
    assert not notify.Notification.objects.filter(kind="application.rectified").exists()

    again = internal_client.get(f"/evaluations/{bad.pk}/rectify/")  # the refused form's address
    assert again.status_code == 302 and again["Location"] == f"/evaluations/{bad.pk}/"

    unversioned = internal_client.post(f"/evaluations/{bad.pk}/rectify/", {
        "action_taken": "核实", "reply": "答复"}, follow=True)
    assert "页面信息不完整或已过期" in _text(unversioned)
    assert applications.Rectification.objects.get(evaluation=bad).state == "pending"

    stale = internal_client.post(f"/evaluations/{bad.pk}/rectify/", {
        "action_taken": "核实", "reply": "答复", "expected_version": "7"}, follow=True)
    assert "刷新" in _text(stale)
    assert applications.Rectification.objects.get(evaluation=bad).state == "pending"

    done = internal_client.post(f"/evaluations/{bad.pk}/rectify/", {
        "action_taken": "已约谈窗口人员", "reply": "已整改,感谢监督。", "expected_version": "1"})
    assert done.status_code == 302 and done["Location"] == f"/evaluations/{bad.pk}/"
    after = _text(internal_client.get(done["Location"]))
    assert 'data-testid="rectification" data-state="done"' in after
    assert "已整改,感谢监督。" in after and 'data-testid="rectify-form"' not in after
    assert notify.Notification.objects.filter(recipient=people["citizen"],
                                              kind="application.rectified").count() == 1
    listing = _text(internal_client.get("/evaluations/?rectification=done"))
    assert rows(listing) == {bad.pk} and "已整改" in listing


def test_overdue_follow_ups_are_flagged(internal_client: Any, people: Any) -> None:
    bad = evaluated(people, 2)
    applications.Rectification.objects.filter(evaluation=bad).update(
        due_at=timezone.now() - timedelta(minutes=5))
    sign_in_client(internal_client, people["gaj"])
    listing = _text(internal_client.get("/evaluations/"))
    row = listing[listing.index(f'data-evaluation="{bad.pk}"'):]
    assert 'data-testid="overdue"' in row[:row.index("</tr>")]
    assert 'data-testid="overdue"' in _text(internal_client.get(f"/evaluations/{bad.pk}/"))
