"""Public facade of the forms app (低代码表单): form definitions, validation of submissions.

A form definition is a JSON dict ``{"version": 1, "components": [...]}`` made by the
drag-and-drop builder (``forms/builder.html``) and stored by the caller (the service
catalogue stores it in a service version). Component types are allow-listed (see
``COMPONENT_TYPES``); conditions, calculations and custom rules are JSON Logic restricted to
allow-listed operators (``LOGIC_OPERATORS``) with bounded depth and size. Everything the
browser does (conditions, calculations) is redone here: the server never trusts the client.

Pure logic, no models. Other apps import only this module. See docs/forms.md and ADR 0019.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from yiwang.enablement.forms import components as _components
from yiwang.enablement.forms import definition as _definition
from yiwang.enablement.forms import logic as _logic
from yiwang.enablement.forms import post as _post
from yiwang.enablement.forms import schema as _schema
from yiwang.enablement.forms import submission as _submission
from yiwang.enablement.forms.errors import SubmissionInvalid

__all__ = [
    "COMPONENT_TYPES",
    "LOGIC_OPERATORS",
    "PREFILL_SOURCES",
    "SIGNATURE_SUFFIX",
    "UPLOAD_SUFFIX",
    "SubmissionInvalid",
    "check_definition",
    "check_logic",
    "describe",
    "evaluate",
    "field_keys",
    "file_fields",
    "incoming_files",
    "parse_post",
    "prefill",
    "to_json_schema",
    "validate_submission",
]

#: Allow-listed component types, in the builder's palette order.
COMPONENT_TYPES: tuple[str, ...] = _components.TYPES
#: Allow-listed JSON Logic operators (the same list the browser's evaluator implements).
LOGIC_OPERATORS: frozenset[str] = _logic.OPERATORS
#: Prefill sources a definition may name (``licence:<type_code>.<field>`` besides these).
PREFILL_SOURCES: tuple[str, ...] = _definition.PREFILL_SOURCES
#: HTML name suffix of the hidden input carrying a signature pad's PNG data URL.
SIGNATURE_SUFFIX = _post.SIGNATURE_SUFFIX
#: HTML name suffix of the ``<input type="file">`` of a file component.
UPLOAD_SUFFIX = _post.UPLOAD_SUFFIX


def check_definition(definition: Any) -> dict[str, Any]:
    """Validate a form definition made by the builder and return it normalised.

    Checks: ``version`` 1; allow-listed component types and, per type, allow-listed
    properties with the right types; keys match ``^[a-z][a-z0-9_]{0,62}$`` and are unique
    (table columns unique within their table); choice options present and unique; JSON Logic
    (``conditional``, ``calculate``, ``validate.rule``) uses only allow-listed operators,
    stays within the size limits and refers only to existing keys; calculations form no
    cycle; ``validate.pattern`` is a safe regular expression; prefill sources are known.
    Normalised: unknown-but-harmless defaults filled in (``required`` False, ``label_en``
    ""), so two equal forms compare equal.

    Raises ``ValidationError`` whose messages each name the component (by key or position)
    and the problem, in Chinese.
    """
    return _definition.check_definition(definition)


def validate_submission(definition: Mapping[str, Any], data: Any, *,
                        partial: bool = False, present: Collection[str] = ()) -> dict[str, Any]:
    """Validate what a person submitted against ``definition`` and return the cleaned data.

    Unknown keys, wrong types, required fields, per-type checks (ID numbers GB 11643, credit
    codes GB 32100, phones, dates, numbers with min/max, choice options, address regions,
    map points, upload tokens, table rows and cells), ``validate`` rules and JSON Logic
    ``validate.rule`` with ``validate.message``. Fields whose ``conditional`` is false are
    dropped; calculated fields are recomputed (a value sent by the client is ignored).

    ``partial=True`` (drafts): only structural type checks — no required fields, no format
    or range checks, no custom rules — so an unfinished draft can be saved.

    ``present``: keys satisfied outside the data, not reported as missing when required
    (e.g. a material replaced by a licence the person holds, 免提交).

    Raises :class:`SubmissionInvalid` whose ``errors`` maps a field path (``"owner_id"``,
    ``"rows[2].area"``, ``"home.region"``) to Chinese messages a person can act on. Never
    raises anything else for any JSON-like ``data`` (the definition must have passed
    :func:`check_definition`).
    """
    return _submission.validate_submission(definition, data, partial=partial, present=present)


def evaluate(rule: Any, data: Any) -> Any:
    """Evaluate a JSON Logic ``rule`` on ``data`` with the allow-listed operators only.

    Raises ``ValidationError`` if the rule uses another operator or exceeds the depth/size
    limits. Arithmetic errors (division by zero, overflow) give ``None`` instead of raising.
    Used by the workflow engine for gateway conditions and by the catalogue for fee tables.
    """
    return _logic.evaluate(rule, data)


def check_logic(rule: Any, *, known_keys: set[str] | frozenset[str] | None = None,
                where: str = "") -> None:
    """Check a JSON Logic rule without evaluating it: allow-listed operators, depth and size
    limits and, when ``known_keys`` is given, every ``var`` names one of those keys (its
    first dotted segment). ``where`` names the rule in messages (e.g. ``"网关条件"``).
    Raises ``ValidationError`` naming each problem."""
    _logic.check_logic(rule, known_keys=known_keys, where=where)


def field_keys(definition: Mapping[str, Any]) -> list[str]:
    """The data keys of a definition (top-level fields, including those inside sections; not
    table columns, not layout components), in document order."""
    return _definition.field_keys(definition)


def file_fields(definition: Mapping[str, Any], data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``file`` and ``signature`` components visible for ``data`` (materials), in order.

    Each item: ``{"key", "type", "label", "label_en", "required", "material", "accept",
    "max_bytes", "max_files", "help"}``; ``material`` is the catalogue's material code or
    ``""``. Visibility follows the components' conditions evaluated on ``data``."""
    return _submission.file_fields(definition, data)


def prefill(definition: Mapping[str, Any], sources: Mapping[str, Any]) -> dict[str, Any]:
    """Initial values for the fields that name a ``prefill`` source.

    ``sources`` is a nested dict the caller builds, e.g. ``{"profile": {"name": ...,
    "id_number": ..., "phone": ...}, "enterprise": {"credit_code": ...}, "licence":
    {"<type_code>": {"<field>": ...}}}``; a source ``"profile.name"`` reads
    ``sources["profile"]["name"]`` and ``"licence:<type>.<field>"`` reads
    ``sources["licence"][<type>][<field>]``. Missing sources are skipped; values are only
    kept if they pass the field's structural type check (they are validated again on
    submission like anything the person typed)."""
    return _submission.prefill(definition, sources)


def prefill_names(definition: Mapping[str, Any], *,
                  skip_keys: Collection[str] = ()) -> set[str]:
    """The ``prefill`` sources the definition's fields name (so a caller reads only those),
    leaving out the fields ``skip_keys`` names (already filled in)."""
    return _submission.prefill_names(definition, skip_keys=skip_keys)


def to_json_schema(definition: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON Schema (2020-12) of the data of ``definition``, for API clients.

    Describes the structure (types, formats, enums, lengths, ranges, table rows,
    required fields that have no condition); conditions, calculations, JSON Logic rules and
    the checksums of identifiers are checked by :func:`validate_submission` only, as the
    schema's ``description`` says."""
    return _schema.to_json_schema(definition)


def parse_post(definition: Mapping[str, Any], post: Any, *, prefix: str = "") -> dict[str, Any]:
    """Turn the renderer's HTML field names (``forms/render.html``) back into nested data.

    ``post`` is a ``QueryDict`` (or any mapping with ``getlist``). Names: ``<prefix><key>``;
    multi-choice and file tokens repeat the name; addresses ``<key>.region`` and
    ``<key>.detail``; map points ``<key>.lng``/``<key>.lat``; table cells
    ``<key>[<row>].<column>`` (rows renumbered in order, blank rows dropped). Values stay
    strings where the person typed them; :func:`validate_submission` converts and checks.
    Calculated and layout components are ignored."""
    return _post.parse_post(definition, post, prefix=prefix)


def incoming_files(definition: Mapping[str, Any], post: Any, files: Any, *,
                   prefix: str = "") -> dict[str, list[tuple[str, Any]]]:
    """The new files a rendered form carries, by component key, for the caller to store
    with ``yiwang.core.uploads.service.accept_upload`` and append the tokens to the data.

    File components: ``files.getlist("<prefix><key>__upload")`` as ``(filename,
    UploadedFile)``. Signature components: the PNG data URL posted in
    ``<prefix><key>__signature_png`` decoded to ``("signature.png", bytes)`` (only PNG data
    URLs below the component's ``max_bytes`` are returned; anything else is reported by a
    ``ValidationError``)."""
    return _post.incoming_files(definition, post, files, prefix=prefix)


def describe(definition: Mapping[str, Any], data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The visible fields of ``data`` as ``[{"key", "type", "label", "display", "rows"?}]``
    in document order, for read-only pages (an official's application detail): choice values
    shown by their option labels, addresses with their region names when known, tables as
    ``rows`` of displayed cells. Labels follow the active language."""
    return _submission.describe(definition, data)

