"""Licence holders other than the applicant (持证主体映射): the ``holder`` part of a version's
licence mapping.

Most licences go to the person (or enterprise) who applied. Two kinds of matter register
someone new and issue the licence to them:

* ``new_individual_business`` — 个体工商户设立登记: the approval registers a new 个体工商户 in
  the legal-entity registry with a newly allocated unified social credit code (GB 32100,
  authority 9 市场监管, type 2 个体工商户, the registration county's code), the operator as its
  legal representative; the business licence is issued to that code and the operator's
  account becomes the enterprise's representative, so the licence is in their wallet.
* ``newborn`` — 出生医学证明, 社保卡 …: the child is registered in the population registry
  with a newly allocated 公民身份号码 (GB 11643, the household county's address code) and is
  the holder. The applicant, and the parents the form names (``mother_id_number``, the
  optional ``father_id_number``) who are in the population registry, are recorded as the
  child's guardians (监护关系, basis 出生登记 and the receipt number), so the licences show
  in their wallets under 「我监护的未成年人的证照」.

The mapping is data (``{"kind": ..., <field>: <source>}``, a source being a form key or a
JSON Logic rule over the form data), checked when a version is saved or imported; see
ADR 0022 and ``docs/services.md``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.core.crypto.service import blind_index
from yiwang.core.identifiers.service import InvalidIdentifier, validate_id_number
from yiwang.enablement.forms import service as forms
from yiwang.industry.services.common import lookup
from yiwang.platform.orgs import service as orgs
from yiwang.platform.registry import service as registry

# kind → (the licence type's holder kind it needs, required sources, optional sources)
KINDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "new_individual_business": (
        "enterprise", ("name", "operator_name", "operator_id_number"),
        ("region", "address", "capital", "industry", "when")),
    "newborn": (
        "person", ("name", "sex", "born_on", "mother_id_number"),
        ("father_id_number", "region", "address", "when")),
}
# The version editor's names for the kinds and their sources (持证主体).
KIND_LABELS: dict[str, Any] = {
    "new_individual_business": gettext_lazy("新设个体工商户"),
    "newborn": gettext_lazy("新生儿"),
}
SOURCE_LABELS: dict[str, Any] = {
    "operator_name": gettext_lazy("经营者姓名"),
    "operator_id_number": gettext_lazy("经营者公民身份号码"),
    "region": gettext_lazy("登记区划"),
    "address": gettext_lazy("地址"),
    "capital": gettext_lazy("资金数额"),
    "industry": gettext_lazy("行业"),
    "when": gettext_lazy("适用条件(JSON Logic)"),
    "sex": gettext_lazy("性别"),
    "born_on": gettext_lazy("出生日期"),
    "mother_id_number": gettext_lazy("母亲公民身份号码"),
    "father_id_number": gettext_lazy("父亲公民身份号码"),
}
# ``name`` is the new 个体工商户's name, or the newborn's.
_NAME_LABELS: dict[str, Any] = {"new_individual_business": gettext_lazy("名称"),
                                "newborn": gettext_lazy("姓名")}
NEWBORN_KEY_PURPOSE = "services.newborn"
INDIVIDUAL_BUSINESS = "个体工商户"


def kinds_for(holder_kind: str) -> list[str]:
    """The holder kinds a licence type whose holder is ``holder_kind`` (``person`` or
    ``enterprise``) may use."""
    return [kind for kind, (needed, _required, _optional) in KINDS.items()
            if needed == holder_kind]


def sources_of(kind: str) -> list[tuple[str, str, bool]]:
    """The sources a holder of ``kind`` maps, in order: ``(name, label, required)``; none for
    an unknown kind."""
    if kind not in KINDS:
        return []
    _needed, required, optional = KINDS[kind]
    return [(name, str(_NAME_LABELS[kind] if name == "name" else SOURCE_LABELS.get(name, name)),
             name in required) for name in (*required, *optional)]


def _source_problem(name: str, source: Any, keys: set[str]) -> list[str]:
    where = _("持证主体的“%(name)s”") % {"name": name}
    if isinstance(source, str) and source.strip():
        if source.split(".")[0] not in keys:
            return [_("%(where)s映射到表单中没有的字段“%(key)s”。")
                    % {"where": where, "key": source}]
        return []
    if isinstance(source, dict) and source:
        try:
            forms.check_logic(source, known_keys=keys, where=where)
        except ValidationError as exc:
            return [str(m) for m in exc.messages]
        return []
    return [_("%(where)s的来源必须是表单字段或 JSON Logic 规则。") % {"where": where}]


def check_holder(holder: Any, keys: set[str], holder_kind: str) -> dict[str, Any] | None:
    """Validate the ``holder`` part of a licence mapping against the form's keys and the
    licence type's holder kind (``person``/``enterprise``); return it normalised (None when
    the licence goes to the applicant). Raises ``ValidationError`` naming every problem."""
    if holder in (None, {}, ""):
        return None
    if not isinstance(holder, dict):
        raise ValidationError(_("持证主体映射必须是 {\"kind\": 类型, …} 形式的对象。"))
    kind = str(holder.get("kind") or "")
    if kind not in KINDS:
        raise ValidationError(
            _("未知的持证主体类型“%(kind)s”,只能是 %(kinds)s(省略则发给申请人)。")
            % {"kind": kind, "kinds": "、".join(KINDS)})
    needed_kind, required, optional = KINDS[kind]
    problems: list[str] = []
    if holder_kind != needed_kind:
        problems.append(
            _("持证主体类型“%(kind)s”要求证照的持证主体为%(needed)s。")
            % {"kind": kind, "needed": _("法人") if needed_kind == "enterprise" else _("自然人")})
    for name in sorted(set(holder) - {"kind"} - set(required) - set(optional)):
        problems.append(_("持证主体类型“%(kind)s”没有“%(name)s”这一项。")
                        % {"kind": kind, "name": name})
    for name in required:
        if name not in holder:
            problems.append(_("持证主体类型“%(kind)s”必须映射“%(name)s”。")
                            % {"kind": kind, "name": name})
    for name in (*required, *optional):
        if name in holder:
            problems.extend(_source_problem(name, holder[name], keys))
    if problems:
        raise ValidationError(problems)
    return dict(holder)


def _value(holder: dict[str, Any], name: str, data: dict[str, Any]) -> Any:
    source = holder.get(name)
    if source is None:
        return None
    if isinstance(source, str):
        return lookup(data, source)
    return forms.evaluate(source, data)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _region(holder: dict[str, Any], data: dict[str, Any], department_code: str) -> str:
    """The registration region: the mapped region (an address's ``region`` code or the
    address itself), else the department's."""
    value = _value(holder, "region", data)
    if isinstance(value, dict):
        value = value.get("region")
    code = _text(value)
    if len(code) >= 6 and code[:6].isdigit():
        return code
    department = orgs.get_department(department_code)
    return str(getattr(department, "region_id", "") or "")


def _address(holder: dict[str, Any], data: dict[str, Any]) -> str:
    value = _value(holder, "address", data)
    if isinstance(value, dict):
        value = value.get("detail")
    return _text(value)[:200]


def _applies(holder: dict[str, Any], data: dict[str, Any]) -> bool:
    when = holder.get("when")
    return when is None or when is True or bool(forms.evaluate(when, data))


def licence_holder(version: Any, data: dict[str, Any], *, application_number: str,
                   applicant: Any = None) -> str | None:
    """See :func:`yiwang.industry.services.service.licence_holder`."""
    holder = (getattr(version, "licence", None) or {}).get("holder")
    if not holder or not isinstance(holder, dict) or not _applies(holder, data or {}):
        return None
    data = data or {}
    department_code = version.matter.department_code
    if holder.get("kind") == "new_individual_business":
        return _new_individual_business(holder, data, department_code,
                                        application_number=application_number,
                                        applicant=applicant)
    if holder.get("kind") == "newborn":
        return _newborn(holder, data, department_code, application_number=application_number,
                        applicant=applicant)
    raise ValidationError(_("未知的持证主体类型“%(kind)s”,请联系事项管理部门。")
                          % {"kind": holder.get("kind")})


# --- 个体工商户 --------------------------------------------------------------------------------

def _operator(holder: dict[str, Any], data: dict[str, Any], applicant: Any
              ) -> tuple[str, str]:
    """The operator's (ID number, name): the applicant's verified identity when known (the
    applicant is the operator), else the form's."""
    number = _text(getattr(applicant, "id_number", "")) if applicant is not None else ""
    name = _text(getattr(applicant, "real_name", "")) if number else ""
    if not number:
        number = _text(_value(holder, "operator_id_number", data))
        name = _text(_value(holder, "operator_name", data))
    try:
        number = validate_id_number(number).value
    except InvalidIdentifier as exc:
        raise ValidationError(_("经营者的公民身份号码有误:%(problem)s")
                              % {"problem": exc.message}) from None
    return number, name


def _capital(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01")) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        return None


def _new_individual_business(holder: dict[str, Any], data: dict[str, Any],
                             department_code: str, *, application_number: str,
                             applicant: Any) -> str:
    if not application_number:
        raise ValidationError(_("缺少受理编号,无法登记个体工商户。"))
    number, operator_name = _operator(holder, data, applicant)
    person = registry.find_person(number)
    if person is None:
        if not operator_name:
            raise ValidationError(_("人口库中没有经营者,表单也没有经营者姓名。"))
        person = registry.register_person(registry.PersonRow(name=operator_name,
                                                             id_number=number))
    name = _text(_value(holder, "name", data)) or f"{operator_name or person.name}(个体工商户)"
    enterprise, _created = registry.register_new_enterprise(
        key=f"application:{application_number}", name=name, kind=INDIVIDUAL_BUSINESS,
        legal_representative=person, region_code=_region(holder, data, department_code),
        authority="9", org_type="2", address=_address(holder, data),
        industry=_text(_value(holder, "industry", data))[:32],
        registered_capital=_capital(_value(holder, "capital", data)),
        established_on=timezone.localdate())
    _link_representative(enterprise.credit_code, number, applicant)
    return str(enterprise.credit_code)


def _link_representative(credit_code: str, id_number: str, applicant: Any) -> None:
    """Open the enterprise account for the operator (its registered representative), so the
    business licence is in their wallet. Skipped — the operator can open it later — when
    the operator has no real-name account (e.g. the form named someone else)."""
    from yiwang.support.identity import service as identity

    user = applicant if _text(getattr(applicant, "id_number", "")) == id_number else None
    if user is None:
        user = identity.find_account(id_number, actor=None)
    if user is None or identity.mandate_of(user, credit_code) is not None:
        return
    try:
        with transaction.atomic():
            identity.register_enterprise_account(user, credit_code, actor=user)
    except ValidationError:
        return  # not verified (L2) yet: they open the account themselves later


# --- 新生儿 ---------------------------------------------------------------------------------

def _birth_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(_text(value)[:10])
    except ValueError:
        raise ValidationError(_("新生儿出生日期“%(value)s”无效。") % {"value": value}) from None


def _valid_number(value: Any) -> str:
    try:
        return validate_id_number(_text(value)).value
    except InvalidIdentifier:
        return ""


def _newborn(holder: dict[str, Any], data: dict[str, Any], department_code: str, *,
             application_number: str = "", applicant: Any = None) -> str:
    name = _text(_value(holder, "name", data))
    born_on = _birth_date(_value(holder, "born_on", data))
    mother = _text(_value(holder, "mother_id_number", data))
    try:
        mother = validate_id_number(mother).value
    except InvalidIdentifier as exc:
        raise ValidationError(_("母亲的公民身份号码有误:%(problem)s")
                              % {"problem": exc.message}) from None
    # One birth, one person: every member of the 出生一件事 (and a retried decision) names the
    # same mother, date and name, so they find the child registered by the first.
    key = "newborn:" + blind_index(f"{mother}|{born_on.isoformat()}|{name}", NEWBORN_KEY_PURPOSE)
    person, _created = registry.register_newborn(
        key=key[:100], name=name, sex=_value(holder, "sex", data), birth_date=born_on,
        region_code=_region(holder, data, department_code), address=_address(holder, data))
    father = _valid_number(_value(holder, "father_id_number", data)) if (
        "father_id_number" in holder) else ""
    _record_guardians(person, born_on, parents={mother, father} - {""},
                      applicant=applicant, application_number=application_number)
    return str(person.id_number)


def _record_guardians(child: Any, born_on: date, *, parents: set[str], applicant: Any,
                      application_number: str) -> None:
    """The applicant (a parent when the form names them as one, else 其他法定监护人) and the
    named parents who are in the population registry become the child's guardians; a
    parent not in the registry is left out (recorded later by the registration office).
    Idempotent: every member of the bundle, and a retried decision, finds them recorded."""
    guardians: dict[str, str] = {}
    own = _text(getattr(applicant, "id_number", "")) if applicant is not None else ""
    if own and getattr(applicant, "verified_at", None):
        if registry.find_person(own) is None and _text(getattr(applicant, "real_name", "")):
            registry.register_person(registry.PersonRow(name=applicant.real_name,
                                                        id_number=own))
        guardians[own] = (registry.GuardianKind.PARENT if own in parents
                          else registry.GuardianKind.OTHER)
    for number in parents:
        guardians.setdefault(number, registry.GuardianKind.PARENT)
    for number, kind in sorted(guardians.items()):
        if number == child.id_number or registry.find_person(number) is None:
            continue
        registry.record_guardianship(number, child, kind=kind, basis="出生登记",
                                     reference=application_number, starts_on=born_on,
                                     actor=applicant)
