"""Unified search on the demo catalogue answers the colloquial questions of the quality set
(yiwang/support/search/quality/questions.tsv, 200+): the guide that answers each is among
the first three results for most of them."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from yiwang.core.identifiers.service import generate_credit_code
from yiwang.demo import loader
from yiwang.demo import services as demo_services
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions.testing import make_chain
from yiwang.support.licences import service as licences
from yiwang.support.search import service as search

pytestmark = pytest.mark.django_db


def quiet(_label: str, _total: int) -> Callable[[int], None]:
    return lambda _n: None


@pytest.fixture
def catalogue(db: Any) -> None:
    rng = random.Random(7)
    search.forget_synonyms()
    make_chain(geometry=False)
    loader.load_departments(quiet)
    orgs.create_department("mzj", "民政局", region_code="339900")  # as the demo's licences do
    for department in orgs.list_departments():
        if not department.credit_code:
            department.credit_code = generate_credit_code("339900", rng=rng)
            department.save(update_fields=["credit_code"])
    licences.load_catalogue()
    licences.authorise_issuers()
    demo_services.load_services(quiet)
    search.load_synonyms()


def _rank(question: str) -> list[str]:
    return [i["key"] for i in search.search(question, per_page=5, facets=False).items]


def test_the_quality_set_is_answered(catalogue: None) -> None:
    questions = search.quality.load_questions()
    assert len(questions) >= 200
    report = search.quality.evaluate(_rank, questions)
    print(f"top-1 {report.top1_rate:.3f} top-3 {report.top3_rate:.3f}; misses:",
          *report.misses, sep="\n")
    assert report.top3_rate >= 0.90
    assert report.top1_rate >= 0.80


def test_the_assistant_ranks_the_quality_set(catalogue: None, settings: Any) -> None:
    from yiwang.support.assistant import service as assistant

    assistant.forget()
    questions = search.quality.load_questions()
    fused = search.quality.evaluate(
        lambda q: [c.source for c in assistant.rank(q, limit=3)], questions)
    settings.YIWANG_ASSISTANT_ENCODER = "none"
    bm25 = search.quality.evaluate(
        lambda q: [c.source for c in assistant.rank(q, limit=3)], questions)
    print(f"assistant fused top-1 {fused.top1_rate:.3f} top-3 {fused.top3_rate:.3f}; "
          f"BM25 only top-1 {bm25.top1_rate:.3f} top-3 {bm25.top3_rate:.3f}; misses:",
          *fused.misses, sep="\n")
    assert fused.top3_rate >= 0.90
    assert fused.top3_rate >= bm25.top3_rate
