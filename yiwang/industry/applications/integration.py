"""The other apps this one works with, each reached through its facade, and the few
adapters that read a catalogue version (so that a renamed attribute is changed here only)."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from typing import Any

from django.utils import timezone

from yiwang.core.uploads import service as uploads
from yiwang.enablement.ai import service as ai
from yiwang.enablement.forms import service as forms
from yiwang.enablement.ledger import service as ledger
from yiwang.enablement.workflow import service as workflow
from yiwang.industry.services import service as catalogue
from yiwang.platform.orgs import service as orgs
from yiwang.support.credit import service as credit
from yiwang.support.identity import service as identity
from yiwang.support.licences import service as licences
from yiwang.support.notify import service as notify
from yiwang.support.payments import service as payments

__all__ = ["ai", "catalogue", "credit", "forms", "identity", "ledger", "licences", "notify", "orgs",
           "payments", "uploads", "workflow"]

# Materials whose images are read by OCR, by the ``material`` code of their file component.
ID_CARD_MATERIALS = {"id_card", "identity_card", "sfz", "id_card_front"}
BUSINESS_LICENCE_MATERIALS = {"business_licence", "yyzz"}


# --- the catalogue's service version ---------------------------------------------------------

def _first(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = getattr(obj, name, None)
        if value not in (None, ""):
            return value
    return default


# A service version's content (form, flow, fees, licence mapping) never changes once
# published, and an application reads its version at every step: keep the few in use for a
# minute in each process (their matter's guide may change: a minute bounds how stale a time
# limit read at submission can be). Drafts are never kept.
_VERSIONS: dict[int, tuple[float, Any]] = {}
VERSION_CACHE_SECONDS = 60.0
VERSION_CACHE_SIZE = 256


def forget_versions() -> None:
    """Drop the kept versions (tests, whose rolled-back rows may reuse a primary key)."""
    _VERSIONS.clear()


def get_version(pk: int) -> Any:
    now = time.monotonic()
    cached = _VERSIONS.get(pk)
    if cached is not None and now - cached[0] < VERSION_CACHE_SECONDS:
        return cached[1]
    version = catalogue.get_version(pk)
    if version is not None and getattr(version, "state", "draft") != "draft":
        if len(_VERSIONS) >= VERSION_CACHE_SIZE:
            _VERSIONS.clear()
        _VERSIONS[pk] = (now, version)
    return version


def published_version(matter_code: str) -> Any:
    return catalogue.published_version(matter_code)


def version_matter(version: Any) -> Any:
    return version.matter


def version_form(version: Any) -> dict[str, Any]:
    return dict(_first(version, "form", "form_definition", default={}) or {})


def version_bpmn(version: Any) -> str:
    return str(_first(version, "bpmn", "flow_bpmn", default="") or "")


def matter_department(matter: Any) -> str:
    return str(_first(matter, "department_code", "department", default="") or "")


def matter_days(matter: Any) -> int:
    """The matter's time limit in working days: the promised one (承诺时限) if set, else the
    statutory one (法定时限)."""
    return int(_first(matter, "promised_days", "statutory_days", default=0) or 0)


def legal_basis_text(matter: Any) -> str:
    """The matter's legal basis (设定依据) as one line of text."""
    parts = []
    for item in _first(matter, "legal_basis", default=[]) or []:
        if isinstance(item, dict):
            parts.append(" ".join(str(item.get(k) or "").strip() for k in ("title", "article")
                                  ).strip())
        elif str(item).strip():
            parts.append(str(item).strip())
    return ";".join(p for p in parts if p)


def publish_licensing(app: Any, version: Any, issued: Any, *, actor: Any) -> None:
    """A licensing matter's approval goes to credit publicity (双公示, 行政许可)."""
    matter = version_matter(version)
    if _first(matter, "kind", default="") != "licensing":
        return
    credit.record_licence(
        code=issued.holder_code, name=issued.holder_name, matter_name=app.matter_name,
        legal_basis=legal_basis_text(matter), application_number=app.number or "",
        licence_name=issued.type.name, licence_no=issued.number,
        decided_on=timezone.localdate(issued.issued_at),
        valid_until=issued.valid_until, authority_code=app.department_code, actor=actor)


def matter_materials(matter: Any) -> list[dict[str, Any]]:
    return list(_first(matter, "materials", default=[]) or [])


def licence_holder(version: Any, data: dict[str, Any], *, application_number: str,
                   applicant: Any = None) -> str | None:
    """``catalogue.licence_holder`` (the contract of issue 5, session 2): the ID number or
    credit code a licence is issued to when the mapping names someone other than the
    applicant; None when it does not — or when the catalogue has no such function yet. The
    ``applicant`` is passed when the catalogue's function takes it."""
    found = getattr(catalogue, "licence_holder", None)
    if found is None:
        return None
    if _takes_applicant(found):
        return found(version, data, application_number=application_number,
                     applicant=applicant)
    return found(version, data, application_number=application_number)


def _takes_applicant(function: Any) -> bool:
    import inspect

    try:
        return "applicant" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


# --- workflow --------------------------------------------------------------------------------

def task_info(info: Any) -> dict[str, Any]:
    """A workflow ``TaskInfo`` as a plain dict."""
    if dataclasses.is_dataclass(info) and not isinstance(info, type):
        return dataclasses.asdict(info)
    return dict(info)


def run_timer(run: Any) -> datetime | None:
    return getattr(run, "next_timer_at", None)


def shift_timers(state: Any, days: int) -> Any:
    """The flow's serialised state with its boundary timers not yet fired moved ``days``
    working days later (a correction's pause, review L1)."""
    return workflow.shift_timers(state, days)


# --- OCR -------------------------------------------------------------------------------------

def ocr_kind(material_code: str) -> str:
    if material_code in ID_CARD_MATERIALS:
        return "id_card"
    if material_code in BUSINESS_LICENCE_MATERIALS:
        return "business_licence"
    return ""


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def read_card(kind: str, image: bytes) -> Any:
    """Run OCR on an image of the given kind; the reading (``None`` for an unknown kind)."""
    if kind == "id_card":
        return ai.read_id_card(image)
    if kind == "business_licence":
        return ai.read_business_licence(image)
    return None


def reading_fields(reading: Any) -> dict[str, Any]:
    """The reading as JSON: ``{field: value}`` (confidences dropped)."""
    plain = _plain(reading)
    fields = plain.get("fields", plain) if isinstance(plain, dict) else {}
    out: dict[str, Any] = {}
    for key, value in (fields or {}).items():
        if isinstance(value, dict) and "value" in value:
            out[key] = value["value"]
        elif isinstance(value, str | int | float) or value is None:
            out[key] = value
    return out


def compare(reading: Any, expected: dict[str, str]) -> list[dict[str, str]]:
    found = ai.compare_fields(reading, expected)
    return [{"field": str(m.field), "read": str(m.read or ""), "expected": str(m.expected or "")}
            for m in found]
