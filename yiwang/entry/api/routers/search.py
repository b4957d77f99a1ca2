"""Public API of unified search: /api/v1/search on the public listener.

- ``GET /``: search services and guides, FAQs, policies, notices and credit publicity
  (``kind``, ``department`` filters; 10 a page; facets; highlights as HTML with ``<mark>``,
  everything else escaped);
- ``GET /suggest``: titles that complete what is being typed.

A query that cannot be searched (over 100 characters, nothing but punctuation) is a 400
with a message. No sign-in; rate-limited per address. Thin: calls
``yiwang.support.search.service``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status

from yiwang.core import ratelimit
from yiwang.support.search import service as search

public_router = Router(tags=["search"])
SEARCHES_PER_MINUTE = 120


class Message(Schema):
    detail: str = Field(description="错误说明")


class Hit(Schema):
    key: str = Field(description="文档标识(类别:编号)")
    kind: str = Field(description="service, faq, policy, notice, credit")
    kind_label: str
    title: str
    url: str = Field(description="门户上的页面")
    department: str
    published_on: date | None
    title_html: str = Field(description="标题,命中的词用 <mark> 标出,其余已转义")
    snippet_html: str = Field(description="摘要,命中的词用 <mark> 标出,其余已转义")


class Facet(Schema):
    code: str
    label: str = ""
    name: str = ""
    count: int


class SearchOut(Schema):
    total: int = Field(description="结果数(capped 为真时:至少这么多)")
    capped: bool = Field(description="结果超过可精确计数的上限;分面只统计最相关的结果")
    page: int
    pages: int
    tokens: list[str] = Field(description="分词后的检索词(已去除停用词)")
    expansions: list[str] = Field(description="同义词扩展")
    items: list[Hit]
    kinds: list[Facet]
    departments: list[Facet]


class Suggestion(Schema):
    title: str
    url: str
    kind: str


def _too_many() -> Any:
    return Status(429, {"detail": gettext("请求过于频繁,请一分钟后再试")})


@public_router.get("", auth=None, response={200: SearchOut, 400: Message, 429: Message},
                   summary="Search services, guides, FAQs, policies, notices and credit")
def search_all(request: HttpRequest,
               q: str = Query(..., max_length=10000, description="搜索内容(不超过 100 字)"),
               kind: str = Query("", max_length=16, description="类别"),
               department: str = Query("", max_length=32, description="部门代码"),
               page: int = Query(1, ge=1, le=100, description="页码(每页 10 条)")) -> Any:
    if ratelimit.exceeded("search.api", request, per_minute=SEARCHES_PER_MINUTE):
        return _too_many()
    try:
        found = search.search(q, kind=kind, department=department, page=page)
    except ValidationError as exc:
        return Status(400, {"detail": " ".join(exc.messages)})
    return {"total": found.total, "capped": found.capped, "page": found.page,
            "pages": found.pages,
            "tokens": found.query.tokens, "expansions": found.query.expansions,
            "items": [{k: v for k, v in i.items() if k in Hit.model_fields}
                      for i in found.items],
            "kinds": [{"code": k["code"], "label": str(k["label"]), "count": k["count"]}
                      for k in found.kinds],
            "departments": found.departments}


@public_router.get("/suggest", auth=None, response={200: list[Suggestion], 429: Message},
                   summary="Titles that complete what is being typed")
def suggest(request: HttpRequest,
            q: str = Query("", max_length=200, description="已输入的文字或拼音")) -> Any:
    if ratelimit.exceeded("search.suggest_api", request, per_minute=SEARCHES_PER_MINUTE * 3):
        return _too_many()
    return [{**s, "kind": str(s["kind"])} for s in search.suggest(q)]
