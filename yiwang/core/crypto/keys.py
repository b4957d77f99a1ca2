"""Managed signing keys (签名密钥): create, rotate, revoke, sign, verify.

Re-exported by ``service.py`` (section "signing keys"); other apps import it from there.
Private keys stay in the :mod:`~yiwang.core.crypto.vault` named by ``YIWANG_KEY_VAULT``; the
database row holds the public key, the vault's name and its handle. Models are imported
inside functions: ``models`` → ``fields`` → ``service`` → this module.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext

from yiwang.core.crypto.base import CryptoError
from yiwang.core.crypto.registry import UnknownAlgorithm, get_signature, names
from yiwang.core.crypto.vault import get_vault

if TYPE_CHECKING:
    from yiwang.core.crypto.models import ManagedKey

ACTIVE, RETIRED, REVOKED = "active", "retired", "revoked"
SIGNATURE_ALGORITHMS = ("ed25519", "ecdsa-p256", "sm2")
_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
MAX_VALID_DAYS = 36500
# The hot path of sign_with_key (see _signing_row); identifiers quoted the SQL standard way,
# which SQLite and PostgreSQL both accept.
_SIGNING_ROW_SQL = (
    'SELECT "status", "algorithm", "vault", "vault_handle", '
    'CASE WHEN "not_after" IS NOT NULL AND "not_after" <= %s THEN 1 ELSE 0 END '
    'FROM "crypto_managedkey" WHERE "id" = %s'
)


class KeyNotUsable(CryptoError):
    """The key cannot sign: unknown, retired, revoked, or past its ``not_after``."""


@dataclass(frozen=True)
class SigningKeyInfo:
    """What callers may know of a managed signing key (never its private half)."""

    id: str
    owner: str  # a department code, "region", or "ledger:<log>"
    purpose: str  # "ledger.checkpoint", "seal", "licence.vc", …
    algorithm: str  # "ed25519", "ecdsa-p256", "sm2"
    status: str  # "active", "retired", "revoked"
    public_key: bytes = field(repr=False)  # SubjectPublicKeyInfo DER
    created_at: datetime
    retired_at: datetime | None
    revoked_at: datetime | None
    revocation_reason: str
    not_after: datetime | None

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the public key (SPKI DER), hex: for logs, audit and people to compare."""
        return hashlib.sha256(self.public_key).hexdigest()

    def can_sign(self, at: datetime | None = None) -> bool:
        """Whether :func:`sign_with_key` would accept this key (as of ``at``, default now)."""
        return self.status == ACTIVE and (self.not_after is None
                                          or (at or timezone.now()) < self.not_after)


def _info(key: ManagedKey) -> SigningKeyInfo:
    return SigningKeyInfo(
        id=key.id, owner=key.owner, purpose=key.purpose, algorithm=key.algorithm,
        status=key.status, public_key=bytes(key.public_key), created_at=key.created_at,
        retired_at=key.retired_at, revoked_at=key.revoked_at,
        revocation_reason=key.revocation_reason, not_after=key.not_after,
    )


def _model() -> type[ManagedKey]:
    from yiwang.core.crypto.models import ManagedKey

    return ManagedKey


def _check_name(value: object, field: str) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        message = (gettext("持有者只能由字母、数字和 _ . : - 组成，长度 1 到 64：%(value)s")
                   if field == "owner" else
                   gettext("用途只能由字母、数字和 _ . : - 组成，长度 1 到 64：%(value)s"))
        raise ValidationError(message, code=f"bad_{field}", params={"value": repr(value)})
    return value


def _check_algorithm(algorithm: object) -> str:
    try:
        if not isinstance(algorithm, str):
            raise UnknownAlgorithm(repr(algorithm))
        get_signature(algorithm)
    except UnknownAlgorithm:
        raise ValidationError(gettext("不支持的签名算法 %(algorithm)s，可用的有：%(known)s"),
                              code="bad_algorithm",
                              params={"algorithm": repr(algorithm),
                                      "known": "、".join(names()["signature"])}) from None
    return algorithm


def _check_valid_days(valid_days: object) -> int | None:
    if valid_days is None:
        return None
    if not isinstance(valid_days, int) or isinstance(valid_days, bool) or not (
            1 <= valid_days <= MAX_VALID_DAYS):
        raise ValidationError(gettext("有效天数须为 1 到 %(max)s 之间的整数：%(value)s"),
                              code="bad_valid_days",
                              params={"max": MAX_VALID_DAYS, "value": repr(valid_days)})
    return valid_days


def _audit(action: str, key: ManagedKey, actor: Any, detail: dict[str, Any]) -> None:
    from yiwang.core.audit.service import record

    # Identifiers and the public key's fingerprint only: never key material or handles.
    record(action, key, actor=actor, detail={
        "key_id": key.id, "owner": key.owner, "purpose": key.purpose,
        "algorithm": key.algorithm,
        "fingerprint": hashlib.sha256(bytes(key.public_key)).hexdigest(), **detail,
    })


def _new_key(*, owner: str, purpose: str, algorithm: str, valid_days: int | None,
             actor: Any, action: str) -> SigningKeyInfo:
    model = _model()
    now = timezone.now()
    previous = list(model.objects.select_for_update()
                    .filter(owner=owner, purpose=purpose, status=ACTIVE))
    for old in previous:
        old.status, old.retired_at = RETIRED, now
        old.save(update_fields=["status", "retired_at"])
    vault = get_vault()
    key_id = secrets.token_hex(8)
    created = vault.create_key(key_id=key_id, algorithm=algorithm)
    try:
        with transaction.atomic():
            key = model.objects.create(
                id=key_id, owner=owner, purpose=purpose, algorithm=algorithm, status=ACTIVE,
                public_key=created.public_key, vault=vault.name, vault_handle=created.handle,
                not_after=now + timedelta(days=valid_days) if valid_days else None,
            )
    except IntegrityError:
        # Another request made an active key for the same (owner, purpose) meanwhile.
        vault.destroy_key(created.handle, key_id=key_id, algorithm=algorithm)
        raise ValidationError(
            gettext("%(owner)s 的 %(purpose)s 密钥正被同时创建或轮换，请稍后重试。"),
            code="concurrent", params={"owner": owner, "purpose": purpose}) from None
    detail: dict[str, Any] = {"not_after": key.not_after.isoformat() if key.not_after else None}
    if previous:
        detail["retired"] = [old.id for old in previous]
    _audit(action, key, actor, detail)
    return _info(key)


@transaction.atomic
def create_signing_key(*, owner: str, purpose: str, algorithm: str,
                       valid_days: int | None = None, actor: Any = None) -> SigningKeyInfo:
    """Make a new key the active key of (``owner``, ``purpose``); the previous one is retired.

    ``algorithm`` is a registered signature algorithm (``ed25519``, ``ecdsa-p256``, ``sm2``);
    ``valid_days`` bounds how long it may sign (``not_after``; none by default). The private
    key is generated in the configured vault and never returned. Audited as
    ``crypto.key_created``. Raises ``ValidationError`` for a bad owner, purpose, algorithm
    or validity, or when another request creates the same key at the same moment.
    """
    return _new_key(owner=_check_name(owner, "owner"), purpose=_check_name(purpose, "purpose"),
                    algorithm=_check_algorithm(algorithm),
                    valid_days=_check_valid_days(valid_days), actor=actor,
                    action="crypto.key_created")


@transaction.atomic
def rotate_signing_key(owner: str, purpose: str, *, algorithm: str | None = None,
                       valid_days: int | None = None, actor: Any = None) -> SigningKeyInfo:
    """Replace the active key of (``owner``, ``purpose``) by a new one; the old one is retired.

    The new key has the old key's algorithm unless ``algorithm`` is given, and the old key's
    validity period unless ``valid_days`` is. Retired keys no longer sign but still verify.
    With no active key, ``algorithm`` is required. Audited as ``crypto.key_rotated``.
    """
    _check_name(owner, "owner")
    _check_name(purpose, "purpose")
    current = _model().objects.filter(owner=owner, purpose=purpose, status=ACTIVE).first()
    if algorithm is None:
        if current is None:
            raise ValidationError(
                gettext("%(owner)s 没有在用的 %(purpose)s 密钥，轮换时请指定算法。"),
                code="no_active_key", params={"owner": owner, "purpose": purpose})
        algorithm = current.algorithm
    if valid_days is None and current is not None and current.not_after is not None:
        valid_days = max(1, round((current.not_after - current.created_at).total_seconds()
                                  / 86400))
    return _new_key(owner=owner, purpose=purpose, algorithm=_check_algorithm(algorithm),
                    valid_days=_check_valid_days(valid_days), actor=actor,
                    action="crypto.key_rotated")


@transaction.atomic
def revoke_signing_key(key_id: str, *, reason: str, actor: Any = None) -> SigningKeyInfo:
    """Revoke a key (compromised, or its holder gone): it never signs again.

    Signatures it made still verify against its public key; whether they are still trusted
    is for the trust list and certificate revocation to say. The vault destroys the private
    key once the revocation commits. If it was the active key, (owner, purpose) has no
    active key until one is created.
    Audited as ``crypto.key_revoked``.
    """
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationError(gettext("请填写吊销原因。"), code="no_reason")
    if len(reason) > 500:
        raise ValidationError(gettext("吊销原因不能超过 500 字。"), code="reason_too_long")
    key = _model().objects.select_for_update().filter(pk=key_id).first()
    if key is None:
        raise ValidationError(gettext("找不到签名密钥 %(key_id)s。"), code="no_key",
                              params={"key_id": repr(key_id)})
    if key.status == REVOKED:
        raise ValidationError(gettext("签名密钥 %(key_id)s 已于 %(when)s 吊销。"),
                              code="already_revoked",
                              params={"key_id": key_id,
                                      "when": f"{key.revoked_at:%Y-%m-%d %H:%M} UTC"})
    if key.vault_handle:
        # Only once the revocation is committed: a rolled-back revocation keeps a usable key.
        transaction.on_commit(partial(get_vault(key.vault).destroy_key, key.vault_handle,
                                      key_id=key.id, algorithm=key.algorithm))
    previous = key.status
    key.status, key.revoked_at, key.revocation_reason = REVOKED, timezone.now(), reason
    key.vault_handle = ""
    key.save(update_fields=["status", "revoked_at", "revocation_reason", "vault_handle"])
    _audit("crypto.key_revoked", key, actor, {"reason": reason, "previous_status": previous})
    return _info(key)


def active_signing_key(owner: str, purpose: str) -> SigningKeyInfo | None:
    """The active key of (``owner``, ``purpose``), or ``None``.

    An active key past its ``not_after`` is still returned (check :meth:`~SigningKeyInfo.
    can_sign`); :func:`sign_with_key` refuses it, and a rotation replaces it.
    """
    key = _model().objects.filter(owner=owner, purpose=purpose, status=ACTIVE).first()
    return _info(key) if key else None


def active_signing_keys(owner: str, purposes: list[str]) -> dict[str, SigningKeyInfo]:
    """:func:`active_signing_key` for several purposes of one owner in one query: the
    active key of each purpose that has one, by purpose."""
    keys = _model().objects.filter(owner=owner, purpose__in=purposes, status=ACTIVE)
    return {key.purpose: _info(key) for key in keys}


def get_signing_key(key_id: str) -> SigningKeyInfo | None:
    """The key with id ``key_id`` in any status, or ``None``."""
    key = _model().objects.filter(pk=key_id).first() if isinstance(key_id, str) else None
    return _info(key) if key else None


def list_signing_keys(*, owner: str | None = None,
                      purpose: str | None = None) -> list[SigningKeyInfo]:
    """Keys of every status, by owner and purpose, newest first within each."""
    queryset = _model().objects.all()
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    if purpose is not None:
        queryset = queryset.filter(purpose=purpose)
    return [_info(key) for key in queryset]


def sign_with_key(key_id: str, data: bytes) -> bytes:
    """Sign ``data`` with the managed key ``key_id`` (the algorithm hashes it).

    Ed25519 gives 64 raw bytes, ECDSA P-256 and SM2 a DER ``SEQUENCE {r, s}`` (see
    :func:`ecdsa_der_to_raw` for JOSE/COSE). Only an active key within its validity signs;
    otherwise :class:`KeyNotUsable` is raised.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"sign_with_key signs bytes, not {type(data).__name__}")
    row = _signing_row(key_id) if isinstance(key_id, str) else None
    if row is None:
        raise KeyNotUsable(f"no signing key {key_id!r}")
    status, algorithm, vault_name, handle, expired = row
    if status != ACTIVE:
        raise KeyNotUsable(f"the signing key {key_id} is {status} and no longer signs")
    if expired:
        raise KeyNotUsable(f"the signing key {key_id} has expired (not_after passed)")
    return get_vault(vault_name).sign(handle, key_id=key_id, algorithm=algorithm,
                                      data=bytes(data))


def _signing_row(key_id: str) -> tuple[str, str, str, str, bool] | None:
    """(status, algorithm, vault, handle, expired) of ``key_id``, read fresh every time.

    Read on every signature so that a revocation by another process takes effect at once.
    Written as SQL because building the ORM query cost ~15 times the query itself, and
    several times an Ed25519 signature (benchmarks/signatures.py).
    """
    db = connections[router.db_for_read(_model())]
    with db.cursor() as cursor:
        cursor.execute(_SIGNING_ROW_SQL, [db.ops.adapt_datetimefield_value(timezone.now()), key_id])
        row = cursor.fetchone()
    if row is None:
        return None
    return row[0], row[1], row[2], row[3], bool(row[4])


def verify_signature(algorithm: str, public_key: bytes, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` over ``data`` verifies with ``public_key`` (SPKI DER).

    Works for keys of any status and for keys of other instances. Never raises for a bad
    signature, key or encoding (it is simply not valid); an unknown ``algorithm`` raises
    ``UnknownAlgorithm`` (a ``CryptoError``).
    """
    return get_signature(algorithm).verify(bytes(public_key), bytes(data), bytes(signature))


def rewrap_signing_keys(*, actor: Any = None) -> int:
    """Re-wrap every stored private key under the current master key; returns how many.

    Run after prepending a key to ``YIWANG_KEY_MASTER`` (or changing ``YIWANG_DATA_CIPHER``);
    afterwards the old master key may be removed. One transaction per key; idempotent.
    Vaults that keep keys inside (HSM) have nothing to re-wrap.
    """
    model = _model()
    done = 0
    for key_id in list(model.objects.exclude(vault_handle="").values_list("pk", flat=True)):
        with transaction.atomic():
            key = model.objects.select_for_update().filter(pk=key_id).first()
            if key is None or not key.vault_handle:
                continue
            handle = get_vault(key.vault).rewrap(key.vault_handle, key_id=key.id,
                                                 algorithm=key.algorithm)
            if handle is None:
                continue
            key.vault_handle = handle
            key.save(update_fields=["vault_handle"])
            done += 1
    if done:
        from yiwang.core.audit.service import record

        record("crypto.key_master_rotated", actor=actor, detail={"rewrapped": done})
    return done
