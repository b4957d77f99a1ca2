"""政务公开 in unified search: a published policy or notice is a document (title, 文号,
summary and body) until it is withdrawn; kept in step by the articles' change hook, in the
transaction of the change."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone

from yiwang.entry.portal.articles import ON_CHANGE, published_articles
from yiwang.entry.portal.models import Article, ArticleKind, ArticleState
from yiwang.support.search import service as search

PATHS = {ArticleKind.POLICY: "policies", ArticleKind.NOTICE: "notices"}


def document(article: Article) -> search.DocumentInput:
    return search.DocumentInput(
        key=f"{article.kind}:{article.pk}", kind=article.kind,
        title=article.title,
        body="\n".join(p for p in (article.doc_no, article.summary, article.body) if p),
        url=f"/{PATHS[ArticleKind(article.kind)]}/{article.pk}/",
        department_code=article.department_code, department_name=article.department_name,
        published_on=timezone.localdate(article.published_at) if article.published_at
        else None)


def sync(article: Article) -> None:
    # under either kind: an article's kind may have been changed since it was indexed
    search.remove_documents([f"{kind}:{article.pk}" for kind in PATHS])
    if article.state == ArticleState.PUBLISHED:
        search.index_documents([document(article)])


def _documents(kind: str) -> Iterator[search.DocumentInput]:
    for article in published_articles(kind).iterator(chunk_size=500):
        yield document(article)


def connect() -> None:
    if sync not in ON_CHANGE:
        ON_CHANGE.append(sync)
    search.register_source("policy", lambda: _documents(ArticleKind.POLICY))
    search.register_source("notice", lambda: _documents(ArticleKind.NOTICE))
