"""ID-token signing keys: RS256, kept in the database, rotated next → active → retired.

There is always one *active* key (it signs) and one *next* key (published in the JWKS ahead
of use, so relying parties that cache the JWKS already know it when it takes over). Rotation
retires the active key, promotes the next one and creates a new next key; a retired key
stays published for :data:`RETIRED_PUBLISHED` so that tokens it signed still verify. Private
keys are encrypted at rest (``EncryptedTextField``).

Signing is on the token hot path, so the active key is parsed once per process and reused;
each process re-checks which key is active at most every ``YIWANG_OIDC_KEY_CACHE_SECONDS``
(30 s by default; 0 in tests), and a rotation in this process takes effect here at once.
A process still signing with the previous key for those seconds is harmless: that key stays
published.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from jwcrypto import jwk, jws, jwt
from jwcrypto.common import JWException

from yiwang.core.audit import service as audit
from yiwang.support.identity.oidc.models import KeyState, SigningKey

ALGORITHM = "RS256"
KEY_SIZE = 2048
RETIRED_PUBLISHED = timedelta(days=1)  # a retired key verifies tokens it signed a day longer
RETIRED_KEPT = timedelta(days=30)  # then it is kept (for id_token_hint) and finally deleted
JWKS_MAX_AGE_SECONDS = 3600  # how long relying parties may cache the JWKS


@dataclass(frozen=True)
class LoadedKey:
    """A signing key ready to use: its ``kid``, private JWK and the encoded JWS header."""

    kid: str
    jwk: jwk.JWK
    private: Any  # cryptography's RSAPrivateKey

    def header(self, typ: str) -> bytes:
        return _b64(json.dumps({"alg": ALGORITHM, "typ": typ, "kid": self.kid},
                               separators=(",", ":")).encode())


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _loaded(kid: str, pem: str) -> LoadedKey:
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    return LoadedKey(kid=kid, jwk=jwk.JWK.from_pem(pem.encode()), private=private)


_lock = threading.Lock()
_parsed: dict[str, LoadedKey] = {}
_active: dict[str, Any] = {"kid": None, "checked": 0.0}


def _cache_seconds() -> float:
    return float(getattr(settings, "YIWANG_OIDC_KEY_CACHE_SECONDS", 30))


def clear_cache() -> None:
    """Forget the parsed keys of this process (after a rotation, and between tests)."""
    with _lock:
        _parsed.clear()
        _active.update(kid=None, checked=0.0)
        _jwks.update(doc=None, checked=0.0)


def _new_key(state: str) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    key = jwk.JWK.from_pem(pem.encode())
    kid = key.thumbprint()
    public = key.export_public(as_dict=True)
    public.update(kid=kid, use="sig", alg=ALGORITHM)
    now = timezone.now()
    return SigningKey.objects.create(
        kid=kid, algorithm=ALGORITHM, private_pem=pem, public_jwk=public, state=state,
        activated_at=now if state == KeyState.ACTIVE else None)


def ensure_keys() -> None:
    """Create the first keys when there are none: an active key and the next one.

    Safe when several processes start at once: at most one key per state can exist (a
    unique constraint), so the loser of a race keeps the winner's key.
    """
    for state in (KeyState.ACTIVE, KeyState.NEXT):
        if SigningKey.objects.filter(state=state).exists():
            continue
        try:
            with transaction.atomic():
                if state == KeyState.ACTIVE:
                    waiting = SigningKey.objects.select_for_update().filter(
                        state=KeyState.NEXT).first()
                    if waiting is not None:  # already published: it takes over
                        waiting.state = KeyState.ACTIVE
                        waiting.activated_at = timezone.now()
                        waiting.save(update_fields=["state", "activated_at"])
                        continue
                _new_key(state)
        except IntegrityError:
            pass  # another process created it meanwhile


def active_key() -> LoadedKey:
    """The key that signs now (created on first use), parsed once per process."""
    now = time.monotonic()
    kid = _active["kid"]
    if kid is not None and now - float(_active["checked"]) < _cache_seconds():
        found = _parsed.get(kid)
        if found is not None:
            return found
    current = SigningKey.objects.filter(state=KeyState.ACTIVE).values_list("kid", flat=True).first()
    if current is None:
        ensure_keys()
        current = SigningKey.objects.filter(state=KeyState.ACTIVE).values_list(
            "kid", flat=True).get()
    loaded = _parsed.get(current)
    if loaded is None:
        row = SigningKey.objects.get(kid=current)
        loaded = _loaded(row.kid, row.private_pem)
        with _lock:
            if len(_parsed) > 16:
                _parsed.clear()
            _parsed[current] = loaded
    with _lock:
        _active.update(kid=current, checked=now)
    return loaded


def published_keys() -> list[dict[str, Any]]:
    """The public keys relying parties may verify with: active, next, recently retired."""
    if not SigningKey.objects.filter(state=KeyState.ACTIVE).exists():
        ensure_keys()
    cutoff = timezone.now() - RETIRED_PUBLISHED
    order = Case(When(state=KeyState.ACTIVE, then=Value(0)),
                 When(state=KeyState.NEXT, then=Value(1)),
                 default=Value(2), output_field=IntegerField())
    rows = (SigningKey.objects
            .filter(Q(state__in=[KeyState.ACTIVE, KeyState.NEXT])
                    | Q(state=KeyState.RETIRED, retired_at__gte=cutoff))
            .annotate(rank=order).order_by("rank", "-created_at")
            .values_list("public_jwk", flat=True))
    return [dict(row) for row in rows]


_jwks: dict[str, Any] = {"doc": None, "checked": 0.0}


def jwks() -> dict[str, Any]:
    """The JSON Web Key Set document (rebuilt at most every key-cache interval, and at once
    after a rotation in this process)."""
    now = time.monotonic()
    doc = _jwks["doc"]
    if doc is not None and now - float(_jwks["checked"]) < _cache_seconds():
        return dict(doc)
    doc = {"keys": published_keys()}
    _jwks.update(doc=doc, checked=now)
    return dict(doc)


@transaction.atomic
def rotate_signing_keys(*, actor: Any = None, force: bool = False) -> SigningKey:
    """Retire the active key, make the next key active and create a new next key.

    Refuses (``ValidationError``) when the next key was published less than the JWKS cache
    time ago, unless ``force``: relying parties might not know it yet. Retired keys older
    than :data:`RETIRED_KEPT` are deleted. Audited as ``oidc.signing_keys_rotated``.
    """
    ensure_keys()
    rows = {k.state: k for k in SigningKey.objects.select_for_update()
            .filter(state__in=[KeyState.ACTIVE, KeyState.NEXT])}
    current, waiting = rows.get(KeyState.ACTIVE), rows.get(KeyState.NEXT)
    now = timezone.now()
    if waiting is None:
        waiting = _new_key(KeyState.NEXT)
    if not force and waiting.created_at > now - timedelta(seconds=JWKS_MAX_AGE_SECONDS):
        raise ValidationError(
            _("下一把签名密钥发布不足一小时，接入应用可能还没有获取它；请稍后再轮换，或确认后强制轮换。"),
            code="next_key_too_new")
    if current is not None:
        current.state = KeyState.RETIRED
        current.retired_at = now
        current.save(update_fields=["state", "retired_at"])
    waiting.state = KeyState.ACTIVE
    waiting.activated_at = now
    waiting.save(update_fields=["state", "activated_at"])
    upcoming = _new_key(KeyState.NEXT)
    SigningKey.objects.filter(state=KeyState.RETIRED, retired_at__lt=now - RETIRED_KEPT).delete()
    audit.record("oidc.signing_keys_rotated", waiting, actor=actor,
                 detail={"active": waiting.kid, "retired": current.kid if current else "",
                         "next": upcoming.kid, "forced": force})
    transaction.on_commit(clear_cache)
    return waiting


def rotate_if_due() -> bool:
    """Rotate when the active key has signed for ``YIWANG_OIDC_KEY_ROTATION_DAYS``."""
    ensure_keys()
    current = SigningKey.objects.filter(state=KeyState.ACTIVE).first()
    days = int(settings.YIWANG_OIDC_KEY_ROTATION_DAYS)
    if current is None or current.activated_at is None:
        return False
    if current.activated_at > timezone.now() - timedelta(days=days):
        return False
    rotate_signing_keys(force=True)
    return True


def sign(claims: dict[str, Any], *, typ: str = "JWT") -> str:
    """A compact JWS (RFC 7515) of ``claims``, RS256 with the active key, ``kid`` in the
    header. Built directly on the RSA key: this runs for every token issued."""
    key = active_key()
    payload = _b64(json.dumps(claims, separators=(",", ":"), default=str).encode())
    signing_input = key.header(typ) + b"." + payload
    signature = key.private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return (signing_input + b"." + _b64(signature)).decode()


def verify(token: str, *, check_expiry: bool = True) -> dict[str, Any] | None:
    """The claims of a token yiwang signed (with any key it still holds), or None.

    Used for ``id_token_hint`` at logout, where an expired ID token is still a good hint
    (``check_expiry=False``). The issuer is checked by the caller.
    """
    try:
        unverified = jws.JWS()
        unverified.deserialize(token)
        header = unverified.jose_header
        kid = header.get("kid") if isinstance(header, dict) else None
        if not kid or header.get("alg") != ALGORITHM:
            return None
        public = SigningKey.objects.filter(kid=kid).values_list("public_jwk", flat=True).first()
        if public is None:
            return None
        key = jwk.JWK(**public)
        # check_claims=None checks exp and nbf; False skips them.
        parsed = jwt.JWT(key=key, jwt=token, check_claims=None if check_expiry else False,
                         algs=[ALGORITHM], expected_type="JWS")
        claims = json.loads(parsed.claims)
    except (JWException, ValueError, TypeError, KeyError):
        return None
    return claims if isinstance(claims, dict) else None
