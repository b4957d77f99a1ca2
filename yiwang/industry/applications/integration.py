"""The other apps this one works with, each reached through its facade, and the few
adapters that read a catalogue version (so that a renamed attribute is changed here only)."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.uploads import service as uploads
from yiwang.enablement.ai import service as ai
from yiwang.enablement.forms import service as forms
from yiwang.enablement.ledger import service as ledger
from yiwang.enablement.workflow import service as workflow
from yiwang.industry.services import service as catalogue
from yiwang.platform.orgs import service as orgs
from yiwang.platform.registry import service as registry
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
    _LICENCE_TYPES.clear()


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


def applicant_problem(version: Any, acting_for: str) -> str | None:
    """Why this applicant may not file for the version's matter, or None: a matter for
    individuals (服务对象 个人) is filed by the person, not for an enterprise; and when the
    approval issues a licence to the applicant, the applicant must be the kind of holder
    the licence type has (a person's licence to a person, an enterprise's to an enterprise,
    filed by its representative or an agent). Without this check the application is
    accepted and the licence cannot be issued at the decision."""
    matter = version_matter(version)
    name = str(_first(matter, "name", default=""))
    if acting_for and _first(matter, "audience", default="") == "person":
        return _("“%(name)s”是面向个人的事项,请切换为以本人身份办理。") % {"name": name}
    licence = dict(_first(version, "licence", default={}) or {})
    if not licence.get("type") or licence.get("holder"):
        return None  # nothing issued, or issued to someone the form names
    ltype = _licence_type(str(licence["type"]))
    if ltype is None:
        return None
    if ltype[0] == "enterprise" and not acting_for:
        return _("本事项签发的“%(licence)s”发给企业或其他组织,请先切换为代表企业办理"
                 "(需企业的办事申报授权)。") % {"licence": ltype[1]}
    if ltype[0] == "person" and acting_for:
        return _("本事项签发的“%(licence)s”发给个人,请切换为以本人身份办理。") % {
            "licence": ltype[1]}
    return None


_LICENCE_TYPES: dict[str, tuple[float, tuple[str, str] | None]] = {}


def _licence_type(code: str) -> tuple[str, str] | None:
    """(holder kind, name) of a licence type, kept for a minute (asked on every submit)."""
    now = time.monotonic()
    cached = _LICENCE_TYPES.get(code)
    if cached is not None and now - cached[0] < VERSION_CACHE_SECONDS:
        return cached[1]
    found = licences.get_type(code)
    value = (str(found.holder_kind), str(found.name)) if found is not None else None
    if len(_LICENCE_TYPES) >= VERSION_CACHE_SIZE:
        _LICENCE_TYPES.clear()
    _LICENCE_TYPES[code] = (now, value)
    return value


def person_address(user: Any) -> dict[str, str] | None:
    """The person's address in the population registry (户籍住址) as an address value,
    read for pre-filling their own form (the read is audited), or None."""
    id_number = getattr(user, "id_number", "") or ""
    person = registry.find_person(id_number) if id_number else None
    if person is None or not person.address:
        return None
    shown = registry.reveal_person(person, ["address"], purpose=_("申请表单预填(免填)"),
                                   actor=user)
    return {"region": person.region_code, "detail": shown["address"]}


def enterprise_prefill(credit_code: str, wanted: set[str]) -> dict[str, str]:
    """The enterprise's registered address and legal representative's name, when the form
    asks for them (public registration data, 公示信息)."""
    if not wanted & {"enterprise.address", "enterprise.legal_representative"}:
        return {}
    found = registry.find_enterprise(credit_code)
    if found is None:
        return {}
    return {"address": found.address, "legal_representative": found.legal_representative.name}


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
