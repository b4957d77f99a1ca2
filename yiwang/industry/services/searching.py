"""The service catalogue in unified search: each published matter is a document (its name,
summary, keywords and the whole guide — conditions, materials, process, fees, legal basis),
each of its FAQs another, and each published 一件事 bundle one more. Kept in step by the
models' ``post_save`` (in the same transaction as the change); the catalogue is also a
source for a full rebuild."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models.signals import post_delete, post_save

from yiwang.industry.services.models import Bundle, Matter
from yiwang.platform.orgs import service as orgs
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


def sync_matter(matter: Matter) -> None:
    search.remove_documents(prefix=f"faq:{matter.code}:")
    if matter.published:
        search.index_documents(matter_documents(matter))
    else:
        search.remove_documents([f"service:{matter.code}"])


def sync_bundle(bundle: Bundle) -> None:
    if bundle.published:
        search.index_documents([bundle_document(bundle)])
    else:
        search.remove_documents([f"service:bundle:{bundle.code}"])


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


def _bundle_saved(sender: Any, instance: Bundle, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        sync_bundle(instance)


def connect() -> None:
    post_save.connect(_matter_saved, sender=Matter, dispatch_uid="search_matter_saved")
    post_delete.connect(_matter_deleted, sender=Matter, dispatch_uid="search_matter_deleted")
    post_save.connect(_bundle_saved, sender=Bundle, dispatch_uid="search_bundle_saved")
    search.register_source("service", service_documents)
    search.register_source("faq", faq_documents)
