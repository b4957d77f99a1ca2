"""Public facade of the seals app (电子印章). Other apps import this module only.

- The registry: :func:`create_seal` (a vault key, a certificate from the region's root CA,
  the seal picture), :func:`set_custodians`, :func:`suspend_seal`, :func:`reinstate_seal`,
  :func:`revoke_seal`; queries :func:`seals_of`, :func:`get_seal`, :func:`may_manage`.
- Authorisation (用印授权): :func:`authorise_seal_use` by a custodian signed in at L3 with a
  multi-factor sign-in or step-up within ``YIWANG_SEAL_STEP_UP_SECONDS`` — single use, bound
  to a document's SHA-256, or standing for one purpose until a date;
  :func:`withdraw_authorisation`; :func:`licence_seal_for` (issuance of licences).
- Sealing: :func:`seal_pdf` (PAdES B-B / B-T / B-LT with a visible stamp; each use on the
  ledger as ``seal.used`` and in the audit log; :func:`deferred_ledger` appends the uses of
  several seals in one go, after signing); :func:`validate_pdf` (验章).

Writes are ``@transaction.atomic`` and raise ``ValidationError`` with a message a person can
act on. The work is done in :mod:`.registry`, :mod:`.authorisation` and :mod:`.sealing`
(with :mod:`.pades` and :mod:`.validation` underneath); this module only gathers it.
"""

from __future__ import annotations

from yiwang.support.seals.authorisation import (
    StepUpRequired,
    authorise_seal_use,
    grant_standing_authorisation,
    licence_purpose,
    licence_seal_for,
    recently_verified,
    standing_seal_for,
    withdraw_authorisation,
)
from yiwang.support.seals.models import (
    Seal,
    SealAuthorisation,
    SealKind,
    SealStatus,
    SealUse,
)
from yiwang.support.seals.registry import (
    MANAGE_PERMISSION,
    REVOCATION_CAUSES,
    VIEW_USES_PERMISSION,
    create_seal,
    get_seal,
    list_uses,
    may_manage,
    may_use,
    reinstate_seal,
    revoke_seal,
    seals_in_custody,
    seals_of,
    set_custodians,
    suspend_seal,
    uses,
)
from yiwang.support.seals.sealing import (
    LEVELS,
    DeferredLedger,
    SealValidation,
    deferred_ledger,
    seal_pdf,
    validate_pdf,
)
from yiwang.support.seals.validation import Check, SignatureReport

__all__ = [
    "LEVELS",
    "MANAGE_PERMISSION",
    "REVOCATION_CAUSES",
    "VIEW_USES_PERMISSION",
    "Check",
    "DeferredLedger",
    "Seal",
    "SealAuthorisation",
    "SealKind",
    "SealStatus",
    "SealUse",
    "SealValidation",
    "SignatureReport",
    "StepUpRequired",
    "authorise_seal_use",
    "create_seal",
    "deferred_ledger",
    "get_seal",
    "grant_standing_authorisation",
    "licence_purpose",
    "licence_seal_for",
    "list_uses",
    "may_manage",
    "may_use",
    "recently_verified",
    "reinstate_seal",
    "revoke_seal",
    "seal_pdf",
    "seals_in_custody",
    "seals_of",
    "set_custodians",
    "standing_seal_for",
    "suspend_seal",
    "uses",
    "validate_pdf",
    "withdraw_authorisation",
]
