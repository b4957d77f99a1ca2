"""How the assistant answers: a question is checked (empty, too long, abusive), read for
what it asks (a greeting, thanks, "转人工"), and otherwise matched against the passages —
semantically (sentence vectors) and lexically (the search index's BM25), the two rankings
fused by reciprocal rank. A clear winner is answered from its passage with a citation (a
link to the guide); two close candidates get a clarifying question; nothing relevant gets
an honest "not found", the question logged for editors and a human offered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from yiwang.core.masking.service import mask_text
from yiwang.support.assistant import knowledge
from yiwang.support.assistant.encoder import encoder
from yiwang.support.assistant.models import Passage, Unanswered
from yiwang.support.search import service as search

MAX_CHARS = 500
RRF_K = 8
LEXICAL_WEIGHT = 1.0  # the BM25 ranking's weight in the fusion (the vectors': 1)
LEXICAL_DEPTH = 10
# A semantic match below this and no lexical match: nothing relevant.
FLOOR = 0.18
# The runner-up's fused score at or above this share of the winner's: ask which one.
CLOSE = 0.92
ABUSE = re.compile(r"(傻[逼屄bB]|(?<![a-z])sb(?![a-z])|操你|草泥马|尼玛|妈的|他妈|去死|滚蛋|"
                   r"白痴|脑残|废物|王八蛋|狗东西|垃圾客服)", re.IGNORECASE)
HUMAN = re.compile(r"(转人工|人工客服|人工服务|真人|找人工|要人工|^人工$)")
GREETING = re.compile(r"^(你好|您好|hi|hello|在吗|在不在|嗨)[!！。.?？~～]*$", re.IGNORECASE)
THANKS = re.compile(r"^(谢谢|多谢|感谢|好的|好|ok|明白了|知道了)[!！。.~～]*$", re.IGNORECASE)


@dataclass
class Candidate:
    source: str
    score: float
    passage: int | None = None
    semantic: float = 0.0
    lexical_rank: int | None = None


@dataclass
class Reply:
    outcome: str  # answer | clarify | none | greeting | thanks | human | refused
    text: str
    citations: list[dict[str, str]] = field(default_factory=list)
    choices: list[dict[str, str]] = field(default_factory=list)


def check(text: str) -> str:
    """The question as asked, or a ``ValidationError`` saying what to do."""
    text = " ".join((text or "").split())
    if not text:
        raise ValidationError(_("请输入您的问题,例如“孩子刚出生要办什么”。"), code="empty")
    if len(text) > MAX_CHARS:
        raise ValidationError(_("问题太长了:请用 %(n)d 个字以内说明您要办的事。") % {
            "n": MAX_CHARS}, code="too_long")
    return text


def _source(key: str) -> str:
    """The guide a search document belongs to (a FAQ belongs to its matter's guide)."""
    if key.startswith("faq:"):
        return "service:" + key.split(":")[1]
    return key


def rank(question: str, *, limit: int = 5) -> list[Candidate]:
    """Guides (search document keys) that may answer ``question``, best first."""
    found: dict[str, Candidate] = {}
    engine = encoder()
    if engine.dimension:
        table = knowledge.matrix()
        if table.ids:
            scores = table.vectors @ engine.encode([question])[0]
            best: dict[str, tuple[float, int]] = {}
            for n in np.argsort(-scores)[:60]:
                source = table.sources[n]
                if source not in best:
                    best[source] = (float(scores[n]), table.ids[n])
            for place, (source, (score, pk)) in enumerate(
                    sorted(best.items(), key=lambda kv: -kv[1][0])):
                found[source] = Candidate(source, 1 / (RRF_K + place + 1), pk, score)
    try:
        hits = search.search(question[:search.MAX_QUERY], per_page=LEXICAL_DEPTH,
                             facets=False, record_miss=False).items
    except ValidationError:
        hits = []
    place = 0
    for hit in hits:
        if hit["kind"] not in ("service", "faq"):
            continue
        source = _source(hit["key"])
        candidate = found.setdefault(source, Candidate(source, 0.0))
        if candidate.lexical_rank is None:
            candidate.lexical_rank = place
            candidate.score += LEXICAL_WEIGHT / (RRF_K + place + 1)
            place += 1
    return sorted(found.values(), key=lambda c: -c.score)[:limit]


def _passage(candidate: Candidate, question: str) -> Passage | None:
    if candidate.passage is not None:
        return Passage.objects.filter(pk=candidate.passage).first()
    return Passage.objects.filter(source=candidate.source).order_by("id").first()


def _snippet(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def answer(question: str) -> Reply:
    """The reply to one question (no conversation state)."""
    if ABUSE.search(question):
        return Reply("refused", _("请文明用语。我是示例市政务服务智能客服,可以帮您查办事指南、"
                                  "所需材料和办理地点。"))
    if HUMAN.search(question):
        return Reply("human", _("好的,正在为您转接人工客服。"))
    if GREETING.match(question):
        return Reply("greeting", _("您好!我是示例市政务服务智能客服。请直接说您要办的事,"
                                   "例如“孩子刚出生要办什么”“营业执照丢了怎么办”。"))
    if THANKS.match(question):
        return Reply("thanks", _("不客气!还有其他问题可以继续问我。"))
    candidates = rank(question)
    relevant = [c for c in candidates
                if c.lexical_rank is not None or c.semantic >= FLOOR]
    if not relevant:
        _log_unanswered(question)
        return Reply("none", _("抱歉,我没有找到与您的问题相关的办事指南。您可以换个说法,"
                               "或者转人工客服,也可以拨打 12345 政务服务便民热线。"),
                     choices=[{"label": _("转人工客服"), "value": "转人工"}])
    top = relevant[0]
    if len(relevant) > 1 and relevant[1].score >= CLOSE * top.score:
        options = []
        for candidate in relevant[:3]:
            passage = _passage(candidate, question)
            if passage is not None:
                options.append({"label": passage.title, "value": passage.title})
        if len(options) > 1:
            return Reply("clarify", _("您想了解的是下面哪一项?"), choices=options)
    passage = _passage(top, question)
    if passage is None:  # the passages were replaced meanwhile
        return Reply("none", _("抱歉,请再问一次。"))
    citations = [{"title": passage.title, "section": passage.section, "url": passage.url}]
    for candidate in relevant[1:3]:
        other = _passage(candidate, question)
        if other is not None:
            citations.append({"title": other.title, "section": "", "url": other.url})
    text = _("根据《%(title)s》办事指南(%(section)s):%(text)s") % {
        "title": passage.title, "section": passage.section, "text": _snippet(passage.text)}
    return Reply("answer", text, citations=citations)


def _log_unanswered(question: str) -> None:
    masked = mask_text(question)[:200]
    try:
        with transaction.atomic():
            if not Unanswered.objects.filter(question=masked).update(count=F("count") + 1):
                Unanswered.objects.create(question=masked)
    except IntegrityError:
        Unanswered.objects.filter(question=masked).update(count=F("count") + 1)


def as_dict(reply: Reply) -> dict[str, Any]:
    return {"outcome": reply.outcome, "text": reply.text, "citations": reply.citations,
            "choices": reply.choices}
