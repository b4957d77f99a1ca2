"""Issuing a licence (签发): the W3C Verifiable Credential, the compact QR and the sealed PDF,
its status list entries, the ledger entry and the audit event, in one transaction."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.core.masking.service import mask_id_number
from yiwang.platform.orgs import service as orgs
from yiwang.support.licences import integration, rendering, schema
from yiwang.support.licences.common import error
from yiwang.support.licences.context import context_url
from yiwang.support.licences.holders import Holder, holder_index, resolve_holder
from yiwang.support.licences.models import (
    DepartmentSequence,
    HolderKind,
    Licence,
    LicenceType,
    StatusPurpose,
)
from yiwang.support.licences.statuslists import allocate_entries, status_entries


def _valid_until(ltype: LicenceType, start: date) -> date | None:
    if not ltype.validity_years:
        return None
    try:
        end = start.replace(year=start.year + ltype.validity_years)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + ltype.validity_years, day=28)
    return end - timedelta(days=1)



def _credential(licence: Licence, ltype: LicenceType, holder: Holder,
                values: dict[str, Any], department: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2", context_url()],
        "id": f"urn:yiwang:licence:{licence.identifier}",
        "type": ["VerifiableCredential", "ElectronicLicence"],
        "name": ltype.name,
        "issuer": {"id": integration.issuer_id(department.code), "name": department.name},
        "validFrom": licence.issued_at.isoformat(timespec="seconds"),
        "credentialSubject": {
            "type": "LicenceHolder",
            "holderKind": holder.kind,
            "holderName": holder.name,
            "holderCode": holder.code,
            "licence": {
                "identifier": licence.identifier,
                "number": licence.number,
                "type": ltype.code,
                "catalogueCode": ltype.catalogue_code,
                "name": ltype.name,
                "issuerCode": department.credit_code,
                "issuedOn": licence.valid_from.isoformat(),
                "fields": values,
            },
        },
        "credentialStatus": status_entries(licence),
    }
    if licence.valid_until is not None:
        document["validUntil"] = datetime.combine(
            licence.valid_until, datetime.max.time().replace(microsecond=0),
            tzinfo=timezone.get_current_timezone()).isoformat()
    return document


def qr_holder_code(holder: Holder) -> str:
    """The holder's code as the QR carries it: a credit code in full (it is public), an ID
    number masked (``110101********7777``) — anyone who scans a QR reads it, and a share
    discloses only the fields its holder chose. A hash would not hide it: an ID number has
    too few unknown digits once the region and birth date are guessed."""
    if holder.kind == HolderKind.ENTERPRISE:
        return holder.code
    return mask_id_number(holder.code)


def _qr_claims(licence: Licence, ltype: LicenceType, holder: Holder,
               department: Any) -> dict[Any, Any]:
    """The CWT claims: issuer, times and a compact licence with its status entries (no long
    fields: a QR must stay scannable; the VC and the PDF carry the rest)."""
    compact: dict[str, Any] = {
        "id": licence.identifier, "no": licence.number, "type": ltype.code,
        "name": ltype.name, "holder": holder.name, "holderCode": qr_holder_code(holder),
        "issuer": department.name, "validFrom": licence.valid_from.isoformat(),
        "status": status_entries(licence),
    }
    # iat rounded up to the next second: it must not fall before the validity of a key made
    # a moment ago (the verifier allows a few minutes of clock skew the other way).
    claims: dict[Any, Any] = {"iss": integration.issuer_id(department.code),
                              "iat": int(licence.issued_at.timestamp()) + 1,
                              "licence": compact}
    if licence.valid_until is not None:
        claims["exp"] = int(datetime.combine(licence.valid_until, datetime.max.time(),
                                             tzinfo=timezone.get_current_timezone()).timestamp())
        compact["validUntil"] = licence.valid_until.isoformat()
    return claims


def may_seal(department_code: str, type_code: str) -> bool:
    """Whether the department can seal licences of the type now (a 证照专用章 and a live
    standing authorisation for the type): without, issuance is refused."""
    return integration.licence_seal(department_code, type_code) is not None


def _no_seal(department: Any, ltype: LicenceType) -> Exception:
    return error(_("%(department)s没有可用于签发%(name)s的电子印章，不能签发：请先在工作台"
                   "“电子印章”中为本部门登记证照专用章，并由印章保管人授予签发该类证照的长期"
                   "授权。未盖章的电子证照不具备法律效力，核验也不会通过。"), "seal",
                 department=department.name, name=ltype.name)


def _locked_sequence(department_code: str) -> int | None:
    """The department's next serial, taken from its sequence row (None: no row yet). One
    ``UPDATE … RETURNING``, which locks the row until the caller's transaction ends as
    ``SELECT … FOR UPDATE`` and a save did in two statements."""
    if not connection.features.can_return_columns_from_insert:  # SQLite before 3.35
        row = (DepartmentSequence.objects.select_for_update()
               .filter(department_code=department_code).first())
        if row is None:
            return None
        row.last_serial += 1
        row.save(update_fields=["last_serial"])
        return int(row.last_serial)
    table = connection.ops.quote_name(DepartmentSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last_serial = last_serial + 1 "  # noqa: S608
                       "WHERE department_code = %s RETURNING last_serial", [department_code])
        found = cursor.fetchone()
    return None if found is None else int(found[0])


def _insert_sequence(department_code: str) -> None:
    """Create the department's sequence row, starting after the licences it issued before
    serials were kept (a concurrent first issuance may insert it first: IntegrityError)."""
    numbers = Licence.objects.filter(department_code=department_code).values_list(
        "number", flat=True)
    # The serial is the number's last eight digits; the highest one, not the count, so that a
    # gap (a licence row removed by hand) can never make a serial, and an identifier, repeat.
    last = max((int(n[-8:]) for n in numbers.iterator() if n[-8:].isdigit()), default=0)
    DepartmentSequence.objects.create(department_code=department_code, last_serial=last)


def next_serial(department_code: str) -> int:
    """The department's next licence serial, taken under a lock on its sequence row that
    lasts until the caller's transaction ends — so a department's issuances (serials,
    status list entries, new status lists) happen one at a time. The row is made on first
    use inside a savepoint; when a concurrent first issuance made it first (the unique
    department code), this one takes that row instead of failing."""
    for _attempt in range(3):
        serial = _locked_sequence(department_code)
        if serial is not None:
            return serial
        try:
            with transaction.atomic():
                _insert_sequence(department_code)
        except IntegrityError:
            continue
    raise RuntimeError(f"no licence sequence for department {department_code}")


@transaction.atomic
def issue_licence(type_code: str, *, holder: Any, fields: dict[str, Any],
                  department_code: str, actor: Any) -> Licence:
    """Issue a licence of ``type_code`` to ``holder`` (a citizen account or ID number; an
    enterprise account or credit code) with ``fields``, by ``department_code``.

    Checks the department may issue the type and the fields against the type's schema; makes
    the VC (``licence.vc`` key), the QR (``licence.cose`` key), the PDF (sealed by the
    department's 证照专用章 under a standing authorisation — refused without one); allocates
    random status list entries;
    appends ``licence.issued`` to the ledger (hashes only) and records the audit event. All or
    nothing."""
    ltype = LicenceType.objects.filter(code=type_code).first()
    if ltype is None or not ltype.active:
        raise error(_("没有证照类型 %(code)s。"), "type", code=type_code)
    if department_code not in (ltype.issuing_departments or []):
        raise error(_("该部门无权签发%(name)s。"), "department", name=ltype.name)
    # The seal's look-up reads its department too (the same row get_department reads), so
    # the department is loaded on its own only when the department has no usable seal.
    seal = integration.licence_seal(department_code, ltype.code)
    department = seal[0].department if seal is not None else orgs.get_department(
        department_code)
    if department is None or not department.active:
        raise error(_("部门 %(code)s 不存在或已停用。"), "department", code=department_code)
    owner = resolve_holder(ltype, holder)
    values = dict(fields or {})
    for role, value in (("code", owner.code), ("name", owner.name)):
        key = schema.holder_field(ltype.schema, role)
        if key is None:
            continue
        given = str(values.get(key) or "").strip().upper()
        if role == "code" and given and given != value.upper():
            raise error(_("“%(label)s”与持证主体不一致。"), "holder",
                        label=next(f["label"] for f in ltype.schema["fields"]
                                   if f["key"] == key))
        values[key] = value
    cleaned = schema.validate_fields(ltype.schema, values)
    if seal is None:
        raise _no_seal(department, ltype)

    serial = next_serial(department.code)  # also the department's issuance lock
    # Keys first: a key made now must already be valid at the licence's issue time.
    vc_key, cose_key = integration.signing_keys(
        department.code, [(integration.VC_PURPOSE, integration.VC_ALGORITHM),
                          (integration.COSE_PURPOSE, integration.COSE_ALGORITHM)], actor=actor)
    now = timezone.now()
    today = timezone.localdate()
    (revocation_list, revocation_index), (suspension_list, suspension_index) = \
        allocate_entries(department.code, [StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION])
    identifier = integration.build_identifier(ltype.catalogue_code, department.credit_code,
                                              serial)
    licence = Licence(
        identifier=identifier,
        number=f"{department.code.upper()}{today:%Y}{serial:08d}",
        type=ltype, holder_kind=owner.kind, holder_user=owner.user,
        credit_code=owner.code if owner.kind == HolderKind.ENTERPRISE else "",
        holder_index=holder_index(owner.code), holder_name=owner.name,
        holder_code=owner.code, data=json.dumps(cleaned, ensure_ascii=False, sort_keys=True),
        department_code=department.code, department_name=department.name,
        revocation_list=revocation_list, revocation_index=revocation_index,
        suspension_list=suspension_list, suspension_index=suspension_index,
        issued_at=now.replace(microsecond=0), valid_from=today,
        valid_until=_valid_until(ltype, today),
        issued_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    vc = integration.add_vc_proof(_credential(licence, ltype, owner, cleaned, department), vc_key)
    vc_text = json.dumps(vc, ensure_ascii=False, separators=(",", ":"))
    licence.vc = vc_text
    licence.vc_sha256 = integration.sha256_hex(vc_text)
    try:
        licence.qr = integration.encode_qr(_qr_claims(licence, ltype, owner, department),
                                           cose_key)
    except ValueError:  # more than a scannable QR code holds
        raise error(_("持证主体名称过长,无法生成可扫描的二维码。"), "qr_too_long") from None
    pdf = rendering.render_pdf(
        layout=ltype.layout, schema=ltype.schema, values=cleaned, identifier=identifier,
        issuer_name=department.name, issued_on=today.isoformat(),
        valid_until=licence.valid_until.isoformat() if licence.valid_until else "",
        qr_text=licence.qr, title=f"{ltype.name} {licence.number}")
    # The seal's use and the licence.issued entry go to the ledger in one append.
    with integration.ledger_with_seals() as ledger_batch:
        pdf, licence.sealed = integration.seal(pdf, department_code=department.code,
                                               type_code=ltype.code,
                                               box=rendering.SEAL_BOX,
                                               reason=f"签发{ltype.name}", actor=actor,
                                               found=seal)
        if not licence.sealed:  # the authorisation went in the meantime
            raise _no_seal(department, ltype)
        licence.pdf = base64.b64encode(pdf).decode("ascii")
        licence.pdf_sha256 = integration.sha256_hex(pdf)
        issued = ledger_batch.add("licence.issued", {
            "identifier_sha256": integration.sha256_hex(identifier),
            "type": ltype.code,
            "issuer": department.code,
            "vc_sha256": licence.vc_sha256,
            "pdf_sha256": licence.pdf_sha256,
            "issued_at": licence.issued_at.isoformat(),
        })
    receipt = issued.receipt
    if receipt is not None:
        # Saved with the licence (the entry holds hashes only, all known before the row):
        # no second write, and the ledger position is in the licence.issued event below.
        licence.ledger_log = receipt.log
        licence.ledger_index = receipt.index
        licence.ledger_record_hash = receipt.record_hash
    licence.save()
    audit.record("licence.issued", licence, actor=actor,
                 detail={"type": ltype.code, "department": department.code,
                         "identifier": identifier, "sealed": licence.sealed,
                         "ledger_index": licence.ledger_index})
    return licence
