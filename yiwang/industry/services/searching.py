"""The service catalogue in unified search and in the assistant's knowledge: each published
matter is a search document (its name, summary, keywords and the whole guide — conditions,
materials, process, fees, legal basis), each of its FAQs another, and each published 一件事
bundle one more; for the assistant, each section of the guide and each FAQ is a passage
that links to its place in the guide. Kept in step by the models' ``post_save``: the search
documents in the same transaction as the change, the assistant's passages by a background
job queued in it (``services.sync_passages``: encoding them loads the sentence encoder,
which has no place in a request — publishing a matter took seconds on a busy server); the
catalogue is also a source for full rebuilds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models.signals import post_delete, post_save

from yiwang.core.tasks.service import enqueue
from yiwang.industry.services.models import Bundle, Matter
from yiwang.platform.orgs import service as orgs
from yiwang.support.assistant import service as assistant
from yiwang.support.search import service as search


def _department(code: str) -> str:
    found = orgs.get_department(code)
    return found.name if found else ""


def _guide_text(matter: Matter) -> str:
    parts: list[str] = [matter.summary, matter.keywords, matter.conditions,
                        matter.fee_description]
    parts += [f"{m.get('name', '')} {m.get('note', '')}" for m in matter.materials or []
              if isinstance(m, dict)]
    parts += [f"{p.get('name', '')} {p.get('description', '')}" for p in matter.process or []
              if isinstance(p, dict)]
    parts += [f"{b.get('title', '')} {b.get('article', '')}" for b in matter.legal_basis or []
              if isinstance(b, dict)]
    parts += [f"{c.get('name', '')} {c.get('address', '')}" for c in matter.channels or []
              if isinstance(c, dict)]
    return "\n".join(p.strip() for p in parts if p and p.strip())


def _keywords(matter: Matter) -> list[str]:
    text = (matter.keywords or "").replace(",", " ").replace("，", " ").replace("、", " ")
    return [w for w in text.replace(";", " ").split() if w][:12]


def matter_documents(matter: Matter) -> list[search.DocumentInput]:
    department = _department(matter.department_code)
    url = f"/services/{matter.code}/"
    common: dict[str, Any] = {"department_code": matter.department_code,
                              "department_name": department, "audience": matter.audience}
    found = [search.DocumentInput(
        key=f"service:{matter.code}", kind="service", title=matter.name,
        body=_guide_text(matter), url=url, words=(matter.name, *_keywords(matter)),
        published_on=matter.updated_at.date() if matter.updated_at else None, **common)]
    for n, item in enumerate(matter.faq or []):
        if isinstance(item, dict) and item.get("q"):
            found.append(search.DocumentInput(
                key=f"faq:{matter.code}:{n}", kind="faq", title=str(item["q"]),
                body=f"{item.get('a', '')}\n{matter.name}", url=f"{url}#faq", **common))
    return found


def bundle_document(bundle: Bundle) -> search.DocumentInput:
    names = [str(m.get("name") or m.get("matter") or "") for m in
             (bundle.snapshot or {}).get("members", []) if isinstance(m, dict)]
    return search.DocumentInput(
        key=f"service:bundle:{bundle.code}", kind="service", title=bundle.name,
        body="\n".join([bundle.summary, *names]), url=f"/services/bundles/{bundle.code}/",
        department_code=bundle.department_code,
        department_name=_department(bundle.department_code), audience=bundle.audience,
        words=(bundle.name,))


def _lines(items: Any, *names: str) -> str:
    out = []
    for n, item in enumerate(items or [], start=1):
        if isinstance(item, dict):
            text = " ".join(str(item.get(k) or "").strip() for k in names).strip()
            if text:
                out.append(f"{n}. {text}")
    return ";".join(out)


def matter_passages(matter: Matter) -> list[assistant.PassageInput]:
    """The guide's sections and FAQs as the assistant's passages."""
    url = f"/services/{matter.code}/"
    days = ""
    if matter.promised_days or matter.statutory_days:
        days = f"承诺 {matter.promised_days or '—'} 个工作日办结,法定 " \
               f"{matter.statutory_days or '—'} 个工作日。"
    sections = [
        ("事项简介", "basic", f"{matter.summary} {days}"),
        ("受理条件", "conditions", matter.conditions),
        ("申请材料", "materials", _lines(matter.materials, "name", "note")),
        ("办理流程", "process", _lines(matter.process, "name", "description")),
        ("收费标准", "fees", matter.fee_description),
        ("办理地点", "channels", _lines(matter.channels, "name", "address", "hours")),
        ("设定依据", "basis", _lines(matter.legal_basis, "title", "article")),
    ]
    found = [assistant.PassageInput(source=f"service:{matter.code}", section=name,
                                    title=matter.name, text=text.strip(),
                                    url=f"{url}#{anchor}")
             for name, anchor, text in sections if text and text.strip()]
    for n, item in enumerate(matter.faq or []):
        if isinstance(item, dict) and item.get("q") and item.get("a"):
            found.append(assistant.PassageInput(
                source=f"service:{matter.code}", section=f"常见问题 {n + 1}",
                title=matter.name, text=f"{item['q']} {item['a']}", url=f"{url}#faq"))
    return found


def bundle_passages(bundle: Bundle) -> list[assistant.PassageInput]:
    document = bundle_document(bundle)
    return [assistant.PassageInput(source=document.key, section="一件事", title=bundle.name,
                                   text=document.body, url=document.url)]


def sync_matter(matter: Matter) -> None:
    search.remove_documents(prefix=f"faq:{matter.code}:")
    if matter.published:
        search.index_documents(matter_documents(matter))
    else:
        search.remove_documents([f"service:{matter.code}"])
        assistant.replace_passages(f"service:{matter.code}", [])  # out at once
    enqueue("services.sync_passages", f"service:{matter.code}")


def sync_bundle(bundle: Bundle) -> None:
    if bundle.published:
        search.index_documents([bundle_document(bundle)])
    else:
        search.remove_documents([f"service:bundle:{bundle.code}"])
        assistant.replace_passages(f"service:bundle:{bundle.code}", [])
    enqueue("services.sync_passages", f"service:bundle:{bundle.code}")


def sync_passages(source: str) -> int:
    """The assistant's passages of one matter (``service:<code>``) or bundle
    (``service:bundle:<code>``) as it stands now — none once withdrawn or gone; the
    background job of :func:`sync_matter` and :func:`sync_bundle` (idempotent)."""
    if source.startswith("service:bundle:"):
        bundle = Bundle.objects.filter(code=source.removeprefix("service:bundle:")).first()
        items = list(bundle_passages(bundle)) if bundle is not None and bundle.published else []
    else:
        matter = Matter.objects.filter(code=source.removeprefix("service:")).first()
        items = list(matter_passages(matter)) if matter is not None and matter.published else []
    return assistant.replace_passages(source, items)


def service_documents() -> Iterator[search.DocumentInput]:
    for matter in Matter.objects.filter(published=True).order_by("code"):
        yield from (d for d in matter_documents(matter) if d.kind == "service")
    for bundle in Bundle.objects.filter(published=True).order_by("code"):
        yield bundle_document(bundle)


def faq_documents() -> Iterator[search.DocumentInput]:
    for matter in Matter.objects.filter(published=True).order_by("code"):
        yield from (d for d in matter_documents(matter) if d.kind == "faq")


def _matter_saved(sender: Any, instance: Matter, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        sync_matter(instance)


def _matter_deleted(sender: Any, instance: Matter, **kwargs: Any) -> None:
    search.remove_documents([f"service:{instance.code}"])
    search.remove_documents(prefix=f"faq:{instance.code}:")
    assistant.replace_passages(f"service:{instance.code}", [])


def catalogue_passages() -> Iterator[assistant.PassageInput]:
    for matter in Matter.objects.filter(published=True).order_by("code"):
        yield from matter_passages(matter)
    for bundle in Bundle.objects.filter(published=True).order_by("code"):
        yield from bundle_passages(bundle)


def _bundle_saved(sender: Any, instance: Bundle, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        sync_bundle(instance)


def connect() -> None:
    post_save.connect(_matter_saved, sender=Matter, dispatch_uid="search_matter_saved")
    post_delete.connect(_matter_deleted, sender=Matter, dispatch_uid="search_matter_deleted")
    post_save.connect(_bundle_saved, sender=Bundle, dispatch_uid="search_bundle_saved")
    search.register_source("service", service_documents)
    search.register_source("faq", faq_documents)
    assistant.register_source("service", catalogue_passages)
