"""Recovery codes (恢复码): ten single-use codes for when the phone or security key is lost.

Codes are shown once, when generated. Only a keyed hash of each is stored (the blind-index
key of the crypto service, purpose ``identity.recovery_code``, over the account id and the
normalised code), so a copy of the database does not reveal them and a code of one account
is worthless for another. Using a code marks it used in one conditional UPDATE: two
concurrent requests cannot both spend it.
"""

from __future__ import annotations

import secrets
import unicodedata
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.core.crypto.service import blind_index
from yiwang.support.identity.models import RecoveryCode

COUNT = 10
GROUPS = 3
GROUP_LENGTH = 4
# No 0/o, 1/l/i: codes are copied from paper.
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
PURPOSE = "identity.recovery_code"


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH))
    return "-".join(raw[i:i + GROUP_LENGTH] for i in range(0, len(raw), GROUP_LENGTH))


def normalise(code: str) -> str:
    """What a person typed, as stored: full-width folded, separators and spaces dropped."""
    text = unicodedata.normalize("NFKC", str(code or "")).casefold()
    return "".join(c for c in text if c.isalnum())


def _hash(user: Any, code: str) -> str:
    return blind_index(f"{user.pk}:{normalise(code)}", PURPOSE)


@transaction.atomic
def generate(user: Any, *, actor: Any = None) -> list[str]:
    """Replace ``user``'s recovery codes with :data:`COUNT` new ones; returns them to show once.

    Every older code stops working. Audited as ``identity.recovery_codes_generated``.
    """
    codes = [_new_code() for _ in range(COUNT)]
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, code_hash=_hash(user, code)) for code in codes])
    audit.record("identity.recovery_codes_generated", user, actor=actor or user,
                 detail={"count": len(codes)})
    return codes


def remaining(user: Any) -> int:
    """How many unused recovery codes ``user`` has."""
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def _looks_like_code(code: str) -> bool:
    text = normalise(code)
    return len(text) == GROUPS * GROUP_LENGTH and all(c in ALPHABET for c in text)


def use(user: Any, code: str, *, request: HttpRequest | None = None) -> bool:
    """Spend one of ``user``'s recovery codes; True when it was valid and unused.

    Throttled by the sign-in guessing limits (per account, and per address when ``request``
    is given): raises the throttle's ``Locked`` (a ``ValidationError``) while locked, so
    callers must not count failures again. Audited as ``identity.recovery_code_used``
    (failures by the throttle). Not one transaction on purpose: the failure count must stay
    recorded when the code is refused.
    """
    from yiwang.support.identity import factors

    if user is None or not getattr(user, "pk", None):
        return False
    factors.throttle_check(request, user)
    ok = False
    if _looks_like_code(code):
        ok = bool(RecoveryCode.objects.filter(
            user=user, code_hash=_hash(user, code), used_at__isnull=True,
        ).update(used_at=timezone.now()))
    if ok:
        left = remaining(user)
        audit.record("identity.recovery_code_used", user, actor=user, detail={"remaining": left})
        factors.throttle_succeed(request, user)
    else:
        factors.throttle_fail(request, user, method="recovery")
    return ok
