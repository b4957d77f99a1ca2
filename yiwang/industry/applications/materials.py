"""Materials of an application: the per-field rules of file and signature components
(``accept``, ``max_bytes``), accepting new files under them, and attaching uploads.

Two ways in:

- one by one (the API: upload a file, then :func:`attach_upload` — its own transaction);
- with the data of a write (the portal pages, a submission or a correction carrying upload
  tokens): :func:`prepare` checks and reads them before the write transaction (owner, the
  field's rule, OCR), :func:`record` claims them and creates the material rows inside it, so
  a write that fails leaves no material behind (review M4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.industry.applications import access
from yiwang.industry.applications import integration as ext
from yiwang.industry.applications.common import error, locked
from yiwang.industry.applications.models import Application, Material, MaterialSource, State
from yiwang.support.identity import service as identity

#: OCR readings per person in ten minutes (OCR is advice: skipped past this, never a gate)
OCR_PER_10_MINUTES = 10

EDITABLE = (State.DRAFT, State.CORRECTION)
TYPE_NAMES = {"image/jpeg": "JPG", "image/png": "PNG", "application/pdf": "PDF"}


def owner_key(user: Any) -> str:
    return f"user:{user.pk}"


def _label(component: Mapping[str, Any]) -> str:
    return str(component.get("label") or component.get("key", ""))


def tokens_of(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    return [t for t in (value or []) if isinstance(t, str) and t]


# --- the field's rule --------------------------------------------------------------------------

def file_rule(component: Mapping[str, Any]) -> tuple[tuple[str, ...], int]:
    """The MIME types and the size a file or signature field takes: the component's
    ``accept`` and ``max_bytes`` clamped to what the uploads app takes at all."""
    default_accept = (("image/png",) if component.get("type") == "signature"
                      else ext.uploads.DEFAULT_ACCEPT)
    wanted = [str(t) for t in (component.get("accept") or default_accept)]
    accept = tuple(t for t in wanted if t in ext.uploads.DEFAULT_ACCEPT)
    try:
        limit = int(component.get("max_bytes") or ext.uploads.DEFAULT_MAX_BYTES)
    except (TypeError, ValueError):
        limit = ext.uploads.DEFAULT_MAX_BYTES
    return accept, max(1, min(limit, ext.uploads.DEFAULT_MAX_BYTES))


def _size_text(n: int) -> str:
    return f"{n / 1048576:.1f} MB" if n >= 1048576 else f"{max(1, n // 1024)} KB"


def check_rule(component: Mapping[str, Any], upload: Any) -> None:
    """Refuse a stored upload whose type or size breaks the field's rule (under its key)."""
    accept, limit = file_rule(component)
    key = str(component.get("key", ""))
    if upload.content_type not in accept:
        raise error(_("“%(label)s”只能上传 %(types)s 文件,请换一个文件。") % {
            "label": _label(component),
            "types": "、".join(TYPE_NAMES.get(t, t) for t in accept) or "—"},
            "file_type", key)
    if max(int(upload.original_size or 0), int(upload.size or 0)) > limit:
        raise error(_("“%(label)s”的文件不能超过 %(size)s,请压缩后重新上传。") % {
            "label": _label(component), "size": _size_text(limit)}, "file_size", key)


def accept_file(user: Any, component: Mapping[str, Any], content: Any,
                filename: str) -> Any:
    """Accept (check, sanitise, store — unclaimed) one new file for ``component`` under its
    rule; a refusal is reported under the field's key."""
    accept, limit = file_rule(component)
    try:
        return ext.uploads.accept_upload(content, filename=filename or "upload",
                                         owner_key=owner_key(user),
                                         purpose="application.material",
                                         accept=accept, max_bytes=limit, actor=user)
    except ext.uploads.UploadRejected as exc:
        raise ValidationError({str(component["key"]): [
            _("“%(label)s”:%(reason)s") % {"label": _label(component),
                                             "reason": " ".join(exc.messages)}]}) from None


def components_by_key(definition: Mapping[str, Any], data: Mapping[str, Any]
                      ) -> dict[str, dict[str, Any]]:
    return {c["key"]: dict(c) for c in ext.forms.file_fields(definition, data)}


def accept_files(user: Any, definition: Mapping[str, Any], data: dict[str, Any],
                 files: Mapping[str, Iterable[tuple[str, Any]]]) -> dict[str, Any]:
    """Accept the new files a page posted (``forms.incoming_files``), each under its field's
    rule, and return ``data`` with their tokens added (a signature replaces the old one).
    Nothing is claimed: the write that uses the data claims them. Every field is tried;
    the errors come back together, one list per field."""
    components = {c["key"]: dict(c) for c in ext.forms.file_fields(definition, {})}
    components.update(components_by_key(definition, data))
    errors: dict[str, list[str]] = {}
    out = dict(data)
    for key, items in files.items():
        component = components.get(key)
        if component is None:
            continue
        tokens = [] if component.get("type") == "signature" else tokens_of(out.get(key))
        for filename, content in items:
            try:
                tokens.append(accept_file(user, component, content, filename).token)
            except ValidationError as exc:
                for path, messages in exc.message_dict.items():
                    errors.setdefault(path, []).extend(messages)
        if key not in errors:
            out[key] = tokens[-1] if component.get("type") == "signature" else tokens
    if errors:
        raise ValidationError(errors)
    return out


# --- OCR -------------------------------------------------------------------------------------

def read_ocr(kind: str, upload: Any, user: Any) -> dict[str, Any]:
    """Read an ID card or a business licence image: ``{"fields": {...}, "problems": [...]}``
    (empty for other files, or when OCR fails: OCR is advice, never a gate)."""
    content_type = str(getattr(upload, "content_type", ""))
    if not kind or upload is None or not (content_type.startswith("image/")
                                          or content_type == "application/pdf"):
        return {}  # a PDF is read through its first page's scanned picture
    if not identity.rate_limit(f"ocr:user:{getattr(user, 'pk', '')}", limit=OCR_PER_10_MINUTES,
                               window=600):
        return {}
    try:
        image = ext.uploads.read_upload(upload.token, actor=user, purpose="application.ocr")
        reading = ext.read_card(kind, image)
    except Exception:  # a model failure must not lose the applicant's upload
        return {"error": True}
    if reading is None:
        return {}
    return {"fields": ext.reading_fields(reading),
            "problems": [str(p) for p in getattr(reading, "problems", [])]}


def expected_values(definition: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, str]:
    """What OCR should read, from the form: the ID number and credit code fields, a name."""
    expected: dict[str, str] = {}
    for c in _walk(definition.get("components", [])):
        value = data.get(c.get("key", ""))
        if not isinstance(value, str) or not value:
            continue
        if c.get("type") == "id_number":
            expected.setdefault("id_number", value)
        elif c.get("type") == "credit_code":
            expected.setdefault("credit_code", value)
        elif c.get("prefill") == "profile.name" or c.get("key") in ("name", "applicant_name"):
            expected.setdefault("name", value)
    return expected


def _walk(components: list[dict[str, Any]]) -> Any:
    for c in components:
        yield c
        if c.get("type") == "section":
            yield from _walk(c.get("components", []))


def mismatches(ocr: Mapping[str, Any], kind: str, expected: dict[str, str]
               ) -> list[dict[str, str]]:
    fields = ocr.get("fields") or {}
    if not fields:
        return []
    wanted = {k: v for k, v in expected.items()
              if (k != "credit_code" or kind == "business_licence")
              and (k != "id_number" or kind == "id_card")}
    if not wanted:
        return []
    reading = ext.ai.CardReading(kind=kind, fields={
        k: ext.ai.FieldValue(str(v), 1.0) for k, v in fields.items() if v is not None})
    return ext.compare(reading, wanted)


# --- prepared before the transaction, recorded inside it --------------------------------------

@dataclass
class NewMaterial:
    component: dict[str, Any]
    upload: Any
    kind: str
    ocr: dict[str, Any]


@dataclass
class Prepared:
    """The materials of a write, checked and read before its transaction."""

    new: list[NewMaterial] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    ocr_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    licences: list[tuple[dict[str, Any], Any]] = field(default_factory=list)
    #: the stored application's ``(pk, row_version)`` when its materials were read, and the
    #: tokens of its upload materials then (None, empty: no stored application)
    seen: tuple[int, int] | None = None
    known: set[str] = field(default_factory=set)


def prepare(user: Any, version: Any, app: Application | None, data: Mapping[str, Any], *,
            compare: bool = False, reuse: Mapping[str, tuple[str, bool]] | None = None,
            definition: Mapping[str, Any] | None = None, ocr: bool = True) -> Prepared:
    """Check every upload ``data`` names that is not yet a material of ``app``: it must be
    this user's and keep its field's rule; read ID cards by OCR. With ``compare``, the OCR
    readings (old and new) are compared with the data. ``reuse``: ``{key: (licence,
    consent)}`` wallet licences to use in place of materials (checked here too).
    ``definition``: another form than the version's (a bundle's), ``ocr=False``: no OCR."""
    if definition is None:
        definition = ext.version_form(version)
    known = ({m.upload_token: m for m in app.materials.filter(source=MaterialSource.UPLOAD)}
             if app is not None and app.pk else {})
    prepared = Prepared(known=set(known))
    if app is not None and app.pk:
        prepared.seen = (app.pk, app.row_version)
    errors: dict[str, list[str]] = {}
    pending: list[tuple[dict[str, Any], Any]] = []
    mine = owner_key(user)
    for component in ext.forms.file_fields(definition, data):
        key = component["key"]
        for token in tokens_of(data.get(key)):
            prepared.used.add(token)
            if token in known:
                continue
            upload = ext.uploads.get_upload(token)
            if upload is None or upload.owner_key != mine:
                errors.setdefault(key, []).append(
                    _("“%(label)s”中的文件无效或已过期,请重新上传。") % {
                        "label": _label(component)})
                continue
            try:
                check_rule(component, upload)
            except ValidationError as exc:
                errors.setdefault(key, []).extend(exc.message_dict.get(key, exc.messages))
                continue
            pending.append((component, upload))
    for key, (identifier, consent) in (reuse or {}).items():
        if not identifier:
            continue
        try:
            prepared.licences.append(check_reuse(user, version, data, key, identifier,
                                                 consent=consent))
        except ValidationError as exc:
            for path, messages in exc.message_dict.items():
                errors.setdefault(path, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    expected = expected_values(definition, data) if compare else {}
    for component, upload in pending:
        kind = ext.ocr_kind(component.get("material", "")) if ocr else ""
        reading = read_ocr(kind, upload, user)
        if compare and reading.get("fields"):
            reading["mismatches"] = mismatches(reading, kind, expected)
        prepared.new.append(NewMaterial(component, upload, kind, reading))
    if compare:
        for token, material in known.items():
            if token in prepared.used and material.ocr.get("fields"):
                reading = material.ocr
                found = mismatches(reading, material.ocr_kind, expected)
                if reading.get("mismatches") != found:
                    reading["mismatches"] = found
                    prepared.ocr_updates[material.pk] = reading
    return prepared


def claim_all(user: Any, prepared: Prepared) -> None:
    """Inside the write transaction: claim the new uploads (owner checked under the
    upload's lock), with no material rows (a bundle's own form, review L4)."""
    mine = owner_key(user)
    for item in prepared.new:
        try:
            ext.uploads.claim_upload(item.upload, mine)
        except ValidationError:
            raise error(_("“%(label)s”中的文件无效或已过期,请重新上传。") % {
                "label": _label(item.component)}, "upload", item.component["key"]) from None


def record(user: Any, app: Application, prepared: Prepared, *, prune: bool = True) -> None:
    """Inside the write transaction: claim the new uploads (the owner checked again, under
    the upload's lock), create their material rows, store the new OCR comparisons, record
    the reused licences; with ``prune``, drop the upload materials the data no longer
    names."""
    claim_all(user, prepared)
    unchanged = unchanged_since_prepared(app, prepared)
    have = set() if not prepared.new else set(prepared.known) if unchanged else set(
        app.materials.filter(source=MaterialSource.UPLOAD).values_list("upload_token",
                                                                       flat=True))
    rows = []
    for item in prepared.new:
        key = item.component["key"]
        if item.upload.token in have:
            continue
        have.add(item.upload.token)
        material = Material(
            application=app, key=key, code=item.component.get("material", ""),
            name=_label(item.component)[:128], source=MaterialSource.UPLOAD,
            upload_token=item.upload.token, sha256=item.upload.sha256,
            content_type=item.upload.content_type, size=item.upload.size,
            ocr_kind=item.kind)
        if item.ocr:
            material.ocr = item.ocr
        rows.append(material)
    if rows:
        Material.objects.bulk_create(rows)
    for pk, reading in prepared.ocr_updates.items():
        material = Material(pk=pk, application=app)
        material.ocr = reading
        material.save(update_fields=["ocr_text"])
    for component, licence in prepared.licences:
        record_reuse(user, app, component, licence)
    if prune and not (unchanged and prepared.known <= prepared.used):
        app.materials.filter(source=MaterialSource.UPLOAD).exclude(
            upload_token__in=prepared.used).delete()


def unchanged_since_prepared(app: Application, prepared: Prepared) -> bool:
    """Inside the write transaction, after its compare-and-swap: whether ``app``'s upload
    materials are still the ones :func:`prepare` read (``prepared.known``), so that
    :func:`record` need not read them again. Every change of an application's materials
    bumps its ``row_version`` in the same transaction (``_attach``, ``reuse_licence``, and
    the writes calling :func:`record`, which swap the version first), and prepare() read the
    materials after the row: so they are unchanged when this write's swap moved the version
    by one from the version prepare saw. An application prepare saw unstored is new in this
    write when its ``row_version`` is still the first: its materials are this write's."""
    if prepared.seen is None:
        return app.row_version == 1 and not prepared.known
    return prepared.seen == (app.pk, app.row_version - 1)


# --- one by one (the API) --------------------------------------------------------------------

def file_component(version: Any, data: Mapping[str, Any], key: str) -> dict[str, Any]:
    for component in ext.forms.file_fields(ext.version_form(version), data):
        if component["key"] == key:
            return dict(component)
    raise error(_("该事项没有名为 %(key)s 的材料。") % {"key": key}, "material", key)


def accept_material(user: Any, application: Application, key: str, content: Any,
                    filename: str) -> Any:
    """Accept a new file for file field ``key`` of the applicant's own application, under
    that field's rule (not yet attached: :func:`attach_upload` does that)."""
    app = access.own_application(user, application)
    version = ext.get_version(app.version_pk)
    return accept_file(user, file_component(version, app.data, key), content, filename)


def attach_upload(user: Any, application: Application, key: str, token: str) -> Material:
    """Attach an upload (already accepted with this user's owner key) as the material of
    file field ``key`` — the one-by-one flow of the API, its own transaction. The upload
    must keep the field's rule; an ID card or business licence image is read by OCR (before
    the write transaction)."""
    app = access.own_application(user, application)
    if app.state not in EDITABLE:
        raise error(_("当前状态下不能再添加材料。"), "state")
    version = ext.get_version(app.version_pk)
    component = file_component(version, app.data, key)
    upload = ext.uploads.get_upload(token)
    if upload is None or upload.owner_key != owner_key(user):
        raise error(_("找不到该上传文件,请重新上传。"), "upload", key)
    check_rule(component, upload)
    kind = ext.ocr_kind(component.get("material", ""))
    reading = read_ocr(kind, upload, user)
    return _attach(user, app, component, upload, kind, reading)


def upload_material(user: Any, application: Application, key: str, content: Any,
                    filename: str) -> Material:
    """:func:`accept_material` and :func:`attach_upload` in one (the API's upload of a
    material): the same checks — the applicant's own application, still editable, the
    field's rule, OCR of an ID card — with the field and the stored upload found once, not
    read again. Refused before anything is stored when the application cannot take
    materials."""
    app = access.own_application(user, application)
    if app.state not in EDITABLE:
        raise error(_("当前状态下不能再添加材料。"), "state")
    version = ext.get_version(app.version_pk)
    component = file_component(version, app.data, key)
    upload = accept_file(user, component, content, filename)
    check_rule(component, upload)  # a re-encoded image may be larger than the original
    kind = ext.ocr_kind(component.get("material", ""))
    reading = read_ocr(kind, upload, user)
    return _attach(user, app, component, upload, kind, reading)


def _with_upload(app: Application, component: dict[str, Any], upload: Any) -> dict[str, Any]:
    """``app``'s data with ``upload`` added to field ``component`` (a signature replaced),
    refused past the field's ``max_files``."""
    key = component["key"]
    data = app.data
    signature = component.get("type") == "signature"
    tokens = [] if signature else tokens_of(data.get(key))
    limit = int(component.get("max_files") or 10)
    if len(tokens) >= limit:
        raise error(_("“%(label)s”最多可上传 %(n)d 个文件。") % {
            "label": _label(component), "n": limit}, "too_many", key)
    tokens.append(upload.token)
    data[key] = upload.token if signature else tokens
    return data


@transaction.atomic
def _attach(user: Any, seen: Application, component: dict[str, Any], upload: Any, kind: str,
            reading: dict[str, Any]) -> Material:
    """The attach's transaction. ``seen``: the application as read (and checked) before.
    When its row is still at ``seen.row_version`` and editable, one conditional ``UPDATE``
    swaps the version and stores the new data — the row is the one read, as every write of
    the data bumps ``row_version`` — instead of the locked re-read and the save; otherwise
    the locked row is read and checked again."""
    try:
        data: dict[str, Any] | None = _with_upload(seen, component, upload)
    except ValidationError:
        data = None  # full as read: the locked row says whether it still is
    stored = Application(pk=seen.pk)
    stored.data = data
    now = timezone.now()
    if data is not None and Application.objects.filter(
            pk=seen.pk, row_version=seen.row_version, state__in=EDITABLE).update(
            data_text=stored.data_text, row_version=seen.row_version + 1, updated_at=now) == 1:
        app = seen
        app.data, app.row_version, app.updated_at = data, seen.row_version + 1, now
    else:
        app = locked(seen.pk)
        if app.state not in EDITABLE:
            raise error(_("当前状态下不能再添加材料。"), "state")
        app.data = _with_upload(app, component, upload)
        app.row_version += 1
        app.save(update_fields=["data_text", "row_version", "updated_at"])
    ext.uploads.claim_upload(upload, owner_key(user))
    material = Material(
        application=app, key=component["key"], code=component.get("material", ""),
        name=_label(component)[:128], source=MaterialSource.UPLOAD,
        upload_token=upload.token, sha256=upload.sha256, content_type=upload.content_type,
        size=upload.size, ocr_kind=kind)
    if reading:
        material.ocr = reading
    material.save()
    return material


# --- a licence from the wallet in place of a material (免提交) --------------------------------

def _licence_types_for(version: Any, material_code: str) -> list[str]:
    for item in ext.matter_materials(ext.version_matter(version)):
        if item.get("code") == material_code:
            return list(item.get("licence_types") or [])
    return []


def check_reuse(user: Any, version: Any, data: Mapping[str, Any], key: str, identifier: str,
                *, consent: bool) -> tuple[dict[str, Any], Any]:
    """The field and the licence, if ``user`` may use that licence in place of material
    ``key`` with their consent; ``ValidationError`` under the key otherwise."""
    if not consent:
        raise error(_("使用电子证照代替材料需要您的授权同意。"), "consent", key)
    component = file_component(version, data, key)
    licence = ext.licences.find_by_identifier(identifier or "")
    if licence is None or not ext.licences.licences_of(user).filter(pk=licence.pk).exists():
        raise error(_("找不到该电子证照,或您无权使用。"), "licence", key)
    allowed = _licence_types_for(version, component.get("material", ""))
    if licence.type.code not in allowed:
        raise error(_("“%(label)s”不能用%(type)s代替。") % {
            "label": _label(component), "type": licence.type.name}, "licence_type", key)
    if ext.licences.effective_status(licence) != "active":
        raise error(_("该电子证照已失效,不能使用。"), "licence_status", key)
    return component, licence


def record_reuse(user: Any, app: Application, component: dict[str, Any], licence: Any
                 ) -> Material:
    key = component["key"]
    already = app.materials.filter(key=key, source=MaterialSource.LICENCE,
                                   licence_identifier=licence.identifier).first()
    if already is not None:
        return already
    material = Material.objects.create(
        application=app, key=key, code=component.get("material", ""),
        name=_label(component)[:128], source=MaterialSource.LICENCE,
        licence_identifier=licence.identifier, consent_at=timezone.now())
    ext.licences.record_use(licence, "application", actor=user,
                            detail={"application": app.pk, "material": material.code})
    audit.record("application.licence_reused", app, actor=user,
                 detail={"licence": licence.identifier, "material": material.code})
    return material


def reuse_licence(user: Any, application: Application, key: str, licence_identifier: str, *,
                  consent: bool) -> Material:
    """Use a licence from the wallet in place of material ``key`` (免提交), with the
    holder's consent, which is recorded (and the use appears in the licence's record of
    uses). The licence must be one the user may use and of a type the matter accepts."""
    app = access.own_application(user, application)
    version = ext.get_version(app.version_pk)
    component, licence = check_reuse(user, version, app.data, key, licence_identifier,
                                     consent=consent)
    with transaction.atomic():
        app = locked(app.pk)
        if app.state not in EDITABLE:
            raise error(_("当前状态下不能再添加材料。"), "state")
        material = record_reuse(user, app, component, licence)
        Application.objects.filter(pk=app.pk).update(row_version=app.row_version + 1,
                                                     updated_at=timezone.now())
    return material
