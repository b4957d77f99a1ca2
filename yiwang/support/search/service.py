"""Public facade of unified search (统一搜索): one box over services and their guides, FAQs,
policies, notices and credit publicity.

Modules publish what is searchable as documents (:func:`index_documents`,
:func:`remove_documents`) in the transaction of their own change, so the index is never
behind the database; each also registers a source (:func:`register_source`) that lists all
its documents, for a full rebuild (:func:`reindex`, ``yiwang search-reindex``). Queries
(:func:`search`, :func:`suggest`) are checked (length, nothing but punctuation), segmented
with jieba, widened with synonyms (良民证 → 无犯罪记录证明) and run by the backend plugin
(``backends.py``: SQLite FTS5 by default, PostgreSQL full text on the same tokens). Results
carry highlights; queries that find nothing are counted for editors (:func:`misses`).

Who may do what: searching is public (the views rate-limit it); only modules write
documents; editors with ``search.manage_search`` keep the synonyms.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.support.search import quality, text
from yiwang.support.search.backends import Filters, backend
from yiwang.support.search.models import Document, Kind, Miss, Synonym

__all__ = [
    "MAX_QUERY",
    "DocumentInput",
    "Filters",
    "Kind",
    "Result",
    "check_query",
    "delete_synonym",
    "forget_synonyms",
    "index_documents",
    "load_synonyms",
    "misses",
    "quality",
    "queue_reindex",
    "register_source",
    "reindex",
    "remove_documents",
    "save_synonym",
    "search",
    "suggest",
    "synonym_rows",
    "synonyms",
]

PER_PAGE = 10
MAX_PAGE = 100
MAX_QUERY = text.MAX_QUERY
SYNONYM_SECONDS = 60
_sources: dict[str, Callable[[], Iterable[DocumentInput]]] = {}
_synonyms: tuple[float, dict[str, list[str]]] = (0.0, {})
_synonym_lock = threading.Lock()


@dataclass(frozen=True)
class DocumentInput:
    """What a module publishes: ``key`` is ``"<kind>:<its own id>"``."""

    key: str
    kind: str
    title: str
    body: str
    url: str
    department_code: str = ""
    department_name: str = ""
    region_code: str = ""
    audience: str = ""
    published_on: date | None = None
    visible_until: date | None = None
    # whole words for the segmenter: the service's name, then its keywords (whose pinyin
    # is indexed too: 社保卡 → shebaoka)
    words: tuple[str, ...] = ()


# --- writing ------------------------------------------------------------------------------

def register_source(kind: str, documents: Callable[[], Iterable[DocumentInput]]) -> None:
    """A module lists all its documents of ``kind`` (for :func:`reindex`)."""
    _sources[kind] = documents


def _row(item: DocumentInput) -> dict[str, Any]:
    if item.kind not in Kind.values:
        raise ValueError(f"unknown document kind {item.kind!r}")
    tags = [f"k_{item.kind}"]
    tags += [f"d_{item.department_code}"] if item.department_code else []
    tags += [f"a_{item.audience}"] if item.audience else []
    return {
        "key": item.key[:128], "kind": item.kind, "title": item.title[:300],
        "body": item.body, "url": item.url[:300],
        "department_code": item.department_code[:32],
        "department_name": item.department_name[:128], "region_code": item.region_code[:12],
        "audience": item.audience[:8], "published_on": item.published_on,
        "visible_until": item.visible_until,
        "title_tokens": text.index_text(item.title), "tokens": text.index_text(item.body),
        "pinyin": text.pinyin_text(item.title, item.words[1:]), "tags": " ".join(tags)}


INDEXED = ("id", "title_tokens", "tokens", "pinyin", "tags")


def index_documents(items: Iterable[DocumentInput]) -> int:
    """Add or replace documents, in the caller's transaction (or one of their own)."""
    items = list({i.key: i for i in items}.values())
    if not items:
        return 0
    text.add_words(w for i in items for w in i.words)
    rows = [_row(i) for i in items]
    with transaction.atomic():
        old = {r["key"]: r for r in Document.objects.filter(
            key__in=[r["key"] for r in rows]).values("key", *INDEXED)}
        engine = backend()
        if old:
            engine.delete(list(old.values()))
        fresh = [Document(**r) for r in rows if r["key"] not in old]
        Document.objects.bulk_create(fresh, batch_size=500)
        changed = [Document(id=old[r["key"]]["id"], **r) for r in rows if r["key"] in old]
        if changed:
            Document.objects.bulk_update(changed, [k for k in rows[0] if k != "key"],
                                         batch_size=500)
        ids = dict(Document.objects.filter(key__in=[r["key"] for r in rows]).values_list(
            "key", "id"))
        engine.add([{**r, "id": ids[r["key"]]} for r in rows])
    return len(rows)


def remove_documents(keys: Iterable[str] = (), *, prefix: str = "") -> int:
    """Take documents out of the index (by key, or every key starting with ``prefix``)."""
    found = Document.objects.all()
    keys = list(keys)
    if prefix:
        found = found.filter(key__startswith=prefix)
    elif keys:
        found = found.filter(key__in=keys)
    else:
        return 0
    with transaction.atomic():
        rows = list(found.values(*INDEXED))
        if rows:
            backend().delete(rows)
            Document.objects.filter(id__in=[r["id"] for r in rows]).delete()
    return len(rows)


def reindex(kinds: Iterable[str] | None = None, *,
            progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Rebuild the documents of every registered source (or of ``kinds``): the current
    ones written again, the stale ones removed."""
    counts = {}
    for kind, documents in sorted(_sources.items()):
        if kinds is not None and kind not in kinds:
            continue
        items = list(documents())
        keep = {i.key for i in items}
        for start in range(0, len(items), 500):
            index_documents(items[start:start + 500])
            if progress is not None:
                progress(kind, min(start + 500, len(items)), len(items))
        stale = [k for k in Document.objects.filter(kind=kind).values_list("key", flat=True)
                 if k not in keep]
        remove_documents(stale)
        counts[kind] = len(items)
    return counts


# --- synonyms -----------------------------------------------------------------------------

def synonyms() -> dict[str, list[str]]:
    """The synonym table (term → what it means), cached for a minute per process."""
    global _synonyms
    loaded_at, table = _synonyms
    if time.monotonic() - loaded_at < SYNONYM_SECONDS:
        return table
    with _synonym_lock:
        table = {s.term: [t for t in s.targets.replace(";", " ").replace(";", " ").split() if t]
                 for s in Synonym.objects.all()}
        text.add_words([*table, *(t for targets in table.values() for t in targets)])
        _synonyms = (time.monotonic(), table)
    return table


def forget_synonyms() -> None:
    """Drop this process's copy of the synonym table (tests; after a bulk change)."""
    global _synonyms
    _synonyms = (0.0, {})


def save_synonym(term: str, targets: str, *, actor: Any = None) -> Synonym:
    term, targets = text.normalise(term), " ".join(text.normalise(targets).split())
    errors = {}
    if not term or len(term) > 32:
        errors["term"] = [_("请填写 1 到 32 个字的词语。")]
    if not targets or len(targets) > 255:
        errors["targets"] = [_("请填写它的同义词,多个用空格分隔,不超过 255 个字。")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        found, _created = Synonym.objects.update_or_create(term=term,
                                                           defaults={"targets": targets})
        audit.record("search.synonym_saved", found, actor=actor,
                     detail={"term": term, "targets": targets})
    forget_synonyms()
    return found


DEFAULT_SYNONYMS = Path(__file__).with_name("synonyms.tsv")


def load_synonyms(path: Path | None = None, *, actor: Any = None) -> int:
    """Add or replace the synonyms of a tab-separated file (the bundled defaults if none);
    lines starting with # are comments. Raises ``ValueError`` naming a malformed line."""
    count = 0
    lines = (path or DEFAULT_SYNONYMS).read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        term, sep, targets = line.partition("\t")
        if not sep or not term.strip() or not targets.strip():
            raise ValueError(f"line {n}: expected a term, a tab and its synonyms")
        try:
            save_synonym(term, targets, actor=actor)
        except ValidationError as exc:
            raise ValueError(f"line {n}: {' '.join(exc.messages)}") from None
        count += 1
    return count


def synonym_rows() -> list[Synonym]:
    """Every synonym, by term (for editors)."""
    return list(Synonym.objects.order_by("term"))


def queue_reindex(*, actor: Any = None) -> None:
    """Rebuild the index in the background (the job ``search.reindex``); audited."""
    from yiwang.core.tasks.service import enqueue

    audit.record("search.reindex_requested", None, actor=actor)
    transaction.on_commit(lambda: enqueue("search.reindex"))


def delete_synonym(term: str, *, actor: Any = None) -> bool:
    with transaction.atomic():
        deleted, _rows = Synonym.objects.filter(term=term).delete()
        if deleted:
            audit.record("search.synonym_deleted", ("search.synonym", term), actor=actor)
    forget_synonyms()
    return bool(deleted)


# --- searching ----------------------------------------------------------------------------

def check_query(raw: str) -> str:
    """The query normalised, or a ``ValidationError`` a person can act on."""
    return text.check_query(raw)


@dataclass
class Result:
    query: text.Query
    items: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    capped: bool = False  # more than ``total`` match; facets count the best results
    kinds: list[dict[str, Any]] = field(default_factory=list)
    departments: list[dict[str, Any]] = field(default_factory=list)


def search(q: str, *, kind: str = "", department: str = "", audience: str = "",
           page: int = 1, per_page: int = PER_PAGE, facets: bool = True,
           record_miss: bool = True) -> Result:
    """Search; raises ``ValidationError`` for a query that cannot be searched."""
    query = text.parse_query(q, synonyms())
    filters = Filters(kind=kind if kind in Kind.values else "", department=department[:32],
                      audience=audience if audience in ("person", "legal") else "")
    page = min(max(page, 1), MAX_PAGE)
    hits = backend().search(query, filters, offset=(page - 1) * per_page, limit=per_page,
                            facets=facets)
    documents = Document.objects.in_bulk(hits.ids)
    today = timezone.localdate()
    terms = [*query.terms, query.text]
    items = []
    for pk in hits.ids:
        found = documents.get(pk)
        if found is None or (found.visible_until and found.visible_until <= today):
            continue
        items.append({
            "key": found.key, "kind": found.kind, "kind_label": str(Kind(found.kind).label),
            "title": found.title, "url": found.url, "department": found.department_name,
            "published_on": found.published_on,
            "title_html": text.highlight(found.title, terms),
            "snippet_html": text.highlight(found.body, terms, width=120)})
    if hits.total == 0 and page == 1 and not (kind or department) and record_miss:
        _record_miss(query.text)
    names = hits.department_names
    return Result(
        query=query, items=items, total=hits.total, page=page, capped=hits.capped,
        pages=min(MAX_PAGE, (hits.total + per_page - 1) // per_page),
        kinds=[{"code": k, "label": str(Kind(k).label), "count": hits.kinds.get(k, 0)}
               for k in Kind.values if hits.kinds.get(k)],
        departments=[{"code": d, "name": names.get(d, d), "count": n}
                     for d, n in hits.departments.items()])


def suggest(q: str, *, limit: int = 8) -> list[dict[str, str]]:
    """Titles that complete what is being typed (not credit records); [] for nothing."""
    try:
        query = text.parse_query(q, {})
    except ValidationError:
        return []
    if not query.tokens:
        return []
    # Titles that begin with what was typed (a range on the title index: "无犯" is not a
    # word of its own), then the index's word-prefix matches.
    start = text.normalise(q)
    # a bounded slice of the title index (credit records are read and skipped: a common
    # first character must not scan a million company names)
    prefixed = (Document.objects.filter(title__gte=start, title__lt=start + "\uffff")
                .order_by("title").values_list("id", "kind")[:limit * 8])
    ids = [pk for pk, kind in prefixed if kind != Kind.CREDIT][:limit]
    if len(ids) < limit:
        more = Document.objects.in_bulk(backend().suggest(query, limit=limit))
        ids += [d.pk for d in sorted(more.values(), key=lambda d: (len(d.title), d.pk))
                if d.pk not in ids]
    documents = Document.objects.in_bulk(ids[:limit])
    return [{"title": documents[pk].title, "url": documents[pk].url,
             "kind": str(Kind(documents[pk].kind).label)} for pk in ids[:limit]
            if pk in documents]


def _record_miss(query: str) -> None:
    from yiwang.core.masking.service import mask_text

    query = mask_text(query)[:100]  # people search for their own ID and phone numbers
    try:
        with transaction.atomic():
            if not Miss.objects.filter(query=query).update(count=F("count") + 1):
                Miss.objects.create(query=query)
    except IntegrityError:  # counted meanwhile by another request
        Miss.objects.filter(query=query).update(count=F("count") + 1)


def misses(limit: int = 100) -> list[Miss]:
    """The most frequent queries that found nothing."""
    return list(Miss.objects.order_by("-count", "-last_at")[:limit])
