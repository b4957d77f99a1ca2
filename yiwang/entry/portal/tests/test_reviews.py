"""The portal's 好差评 page: what a visitor reads about each department's and each matter's
satisfaction — figures only, never a name, a comment or a receipt number — reached from the
footer of every page (the old "not yet available" address leads to it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from yiwang.entry.portal.testing import html_lang, unlabelled_inputs
from yiwang.industry.applications import service as applications
from yiwang.industry.applications.testing import evaluated as evaluate
from yiwang.industry.applications.testing import make_evaluation_city

pytestmark = pytest.mark.django_db
FOOD = ("339900-scjg-0001", "食品经营许可")


@pytest.fixture
def people() -> dict[str, Any]:
    return make_evaluation_city()


def text(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_the_footer_leads_to_the_page_and_the_old_address_moved(public_client: Any) -> None:
    home = text(public_client.get("/"))
    footer = home[home.index('class="site-footer"'):]
    assert '<a href="/reviews/">好差评</a>' in footer
    assert "/unavailable/reviews/" not in home
    moved = public_client.get("/unavailable/reviews/")
    assert moved.status_code == 301 and moved["Location"] == "/reviews/"


def test_figures_by_department_and_matter_without_personal_data(public_client: Any,
                                                                people: Any) -> None:
    for score in (5, 4, 4, 2):
        evaluate(people, score, comment="窗口人员很耐心")
    evaluate(people, 1, department="scjg", matter=FOOD, comment="跑了三次")
    bad = applications.Evaluation.objects.get(score=2)
    applications.rectify_evaluation(people["gaj"], bad, action_taken="培训",
                                    reply="已整改,感谢您的监督。")

    html = text(public_client.get("/reviews/"))
    assert 'data-testid="total-count">5<' in html
    assert 'data-testid="total-average">3.20<' in html
    assert 'data-testid="total-good-rate">60.0%<' in html
    assert 'data-testid="total-bad">2<' in html
    assert 'data-testid="total-rectified-rate">50.0%<' in html
    police = html[html.index('data-department="gaj"'):]
    police = police[:police.index("</tr>")]
    assert '<a href="/departments/gaj/">示例市公安局</a>' in police
    assert "<td class=\"num\">4</td><td class=\"num\">3.75</td>" in police
    assert 'data-matter="339900-scjg-0001"' in html and "食品经营许可" in html
    # no person: not the applicant, not their comment, not the reply, not a receipt number
    for private in ("李小明", "李*", "窗口人员很耐心", "跑了三次", "已整改,感谢您的监督。",
                    bad.application.number):
        assert private not in html, private
    assert html_lang(html) == "zh-Hans" and unlabelled_inputs(html) == []

    english = text(public_client.get("/en/reviews/"))
    assert html_lang(english) == "en" and 'data-testid="reviews-departments"' in english


def test_periods_and_the_empty_page(public_client: Any, people: Any) -> None:
    assert 'data-testid="reviews-empty"' in text(public_client.get("/reviews/"))
    old = evaluate(people, 5)
    applications.Evaluation.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=200))
    evaluate(people, 3)
    assert 'data-testid="total-count">2<' in text(public_client.get("/reviews/"))
    assert 'data-testid="total-count">2<' in text(public_client.get("/reviews/?period=year"))
    quarter = text(public_client.get("/reviews/?period=quarter"))
    assert 'data-testid="total-count">1<' in quarter
    assert 'href="?period=quarter" aria-current="page"' in quarter
    assert 'data-testid="total-count">2<' in text(public_client.get("/reviews/?period=nope"))


def test_the_page_reads_a_fixed_number_of_queries(public_client: Any, people: Any,
                                                  django_assert_max_num_queries: Any) -> None:
    for n in range(30):
        evaluate(people, 1 + n % 5, matter=(f"339900-gaj-{n:04d}", f"事项{n}"))
    with django_assert_max_num_queries(8):
        text(public_client.get("/reviews/?period=all"))


def test_a_matter_with_few_evaluations_publishes_no_score(public_client: Any,
                                                          people: Any) -> None:
    from yiwang.entry.portal.views_reviews import FEW

    evaluate(people, 1, department="scjg", matter=FOOD)  # one person: their score
    for score in (5, 4, 3):
        evaluate(people, score)
    html = text(public_client.get("/reviews/"))
    rows = {r.split('data-matter="')[1].split('"')[0]: r
            for r in html.split('data-testid="matter-row"')[1:]}
    food = rows[FOOD[0]].split("</tr>")[0]
    assert 'data-testid="few"' in food and "1.00" not in food and FEW > 1
    others = rows["339900-gaj-0001"].split("</tr>")[0]
    assert 'data-testid="few"' not in others and "4.00" in others
    # the same for a department: market regulation has one rating
    departments = {r.split('data-department="')[1].split('"')[0]: r.split("</tr>")[0]
                   for r in html.split('data-testid="department-row"')[1:]}
    assert 'data-testid="few"' in departments["scjg"] and "1.00" not in departments["scjg"]
    assert 'data-testid="few"' not in departments["gaj"]


def test_one_rating_in_all_publishes_no_overall_score(public_client: Any, people: Any) -> None:
    evaluate(people, 2)
    html = text(public_client.get("/reviews/"))
    assert 'data-testid="total-count">1<' in html
    assert 'data-testid="total-average">—<' in html and "2.00" not in html
