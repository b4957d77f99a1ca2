"""One-time codes sent by SMS (短信验证码).

A code is 6 digits, lives ``YIWANG_OTP_TTL_SECONDS``, allows :data:`MAX_ATTEMPTS` wrong
guesses and works once. Asking for a new code for the same phone and purpose ends the older
ones. Only a keyed hash of the code is stored (blind index, purpose ``identity.otp``, over
the phone's index, the purpose and the code), so a copy of the database does not reveal it.

Codes for a phone that belongs to no account (a sign-in with an unknown number) are issued
all the same but never sent (``deliver=False``): sending limits, expiry, attempts and
messages then behave exactly as for a real account, so none of them reveals whether the
number is registered. The messages still say what went wrong — expired, already used, too
many attempts, or wrong — because none of that depends on the account.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core.crypto.service import blind_index
from yiwang.support.identity import accounts, sms, throttle
from yiwang.support.identity.models import CodePurpose, OneTimeCode

logger = logging.getLogger(__name__)

CODE_LENGTH = 6
MAX_ATTEMPTS = 5
HASH_PURPOSE = "identity.otp"
# Per client address, however many phones it asks for: stops SMS pumping from one source.
ADDRESS_SENDS_PER_HOUR = 30


class CodeError(ValidationError):
    """A one-time code was refused; ``reason`` is ``format``, ``missing``, ``expired``,
    ``used``, ``too_many`` or ``wrong``."""

    def __init__(self, reason: str, message: Any, params: dict[str, Any] | None = None) -> None:
        self.reason = reason
        super().__init__(message, code=f"code_{reason}", params=params)


MESSAGES = {
    "format": _("请输入短信中的 6 位数字验证码。"),
    "missing": _("验证码不正确。请检查短信中的验证码，或重新获取。"),
    "expired": _("验证码已过期，请重新获取。"),
    "used": _("这个验证码已经用过了，每个验证码只能使用一次。请重新获取。"),
    "too_many": _("验证码输错的次数过多，已失效。请重新获取。"),
    "wrong": _("验证码不正确，还可以再试 %(left)d 次。"),
}


def ttl() -> timedelta:
    return timedelta(seconds=int(settings.YIWANG_OTP_TTL_SECONDS))


def _new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_LENGTH):0{CODE_LENGTH}d}"


def _hash(target_index: str, purpose: str, code: str) -> str:
    return blind_index(f"{target_index}:{purpose}:{code}", HASH_PURPOSE)


def normalise(code: object) -> str:
    """What a person typed, full-width digits folded and spaces dropped."""
    text = unicodedata.normalize("NFKC", str(code or ""))
    return "".join(text.split())


def issue(phone: str, purpose: str, *, user: Any = None, deliver: bool = True,
          request: HttpRequest | None = None, template: str = "otp") -> datetime:
    """Make a new code for ``phone`` and ``purpose``, send it (unless ``deliver`` is False)
    and end the older ones; returns when it expires.

    The phone's sending limits count either way. Raises ``ValidationError`` for a bad
    number, :class:`sms.SmsRateLimited` when too many were asked for (per phone, or per
    client address when ``request`` is given) and :class:`sms.SmsError` when the gateway
    failed (no code is then stored).
    """
    phone = accounts.validate_phone(phone)
    if request is not None:
        address = throttle.address_key(request)
        if address:
            wait = throttle.hit("rate:smsaddr:" + address[5:], limit=ADDRESS_SENDS_PER_HOUR,
                                window=timedelta(hours=1))
            if wait:
                raise sms.SmsRateLimited(wait)
    code = _new_code()
    index = accounts.phone_index(phone)
    expires_at = timezone.now() + ttl()
    minutes = max(1, int(ttl().total_seconds() // 60))
    params = {"code": code, "minutes": minutes, "purpose": purpose}
    queued = not sms.get_gateway().synchronous
    if queued:
        # The same work whether or not the number has an account: count it, queue a job.
        sms.consume_quota(phone)
    elif deliver:
        sms.send(phone, template, params)
    else:
        sms.consume_quota(phone)
    with transaction.atomic():
        if queued:
            queue_delivery(phone if deliver else "", template, params)
        now = timezone.now()
        OneTimeCode.objects.filter(target_index=index, purpose=purpose, used_at__isnull=True,
                                   expires_at__gt=now).update(expires_at=now)
        OneTimeCode.objects.create(
            purpose=purpose, target_index=index, user=user if getattr(user, "pk", None) else None,
            code_hash=_hash(index, purpose, code), expires_at=expires_at)
    return expires_at


def verify(phone: str, purpose: str, code: object, *, index: str = "") -> OneTimeCode:
    """Check ``code`` for ``phone`` (or its blind ``index``) and ``purpose``; it is used up.

    Raises :class:`CodeError` saying why a code was refused. A wrong guess is recorded even
    though the error is raised (commit the caller's transaction; do not roll it back).
    """
    typed = normalise(code)
    if len(typed) != CODE_LENGTH or not typed.isascii() or not typed.isdigit():
        raise CodeError("format", MESSAGES["format"])
    if not index:
        try:
            index = accounts.phone_index(phone)
        except ValidationError:
            raise CodeError("missing", MESSAGES["missing"]) from None
    error: CodeError | None = None
    with transaction.atomic():
        # Only the newest code counts: one that a newer code replaced is simply wrong.
        row = (OneTimeCode.objects.select_for_update()
               .filter(target_index=index, purpose=purpose)
               .order_by("-created_at", "-id").first())
        now = timezone.now()
        if row is None:
            error = CodeError("missing", MESSAGES["missing"])
        elif row.used_at is not None:
            error = CodeError("used", MESSAGES["used"])
        elif row.expires_at <= now:
            error = CodeError("expired", MESSAGES["expired"])
        elif row.attempts >= MAX_ATTEMPTS:
            error = CodeError("too_many", MESSAGES["too_many"])
        elif not hmac.compare_digest(row.code_hash, _hash(index, purpose, typed)):
            row.attempts += 1
            row.save(update_fields=["attempts"])
            left = MAX_ATTEMPTS - row.attempts
            error = (CodeError("wrong", MESSAGES["wrong"], {"left": left}) if left > 0
                     else CodeError("too_many", MESSAGES["too_many"]))
        else:
            row.used_at = now
            row.save(update_fields=["used_at"])
    if error is not None:
        raise error
    assert row is not None
    return row


def purge(*, now: datetime | None = None) -> int:
    """Delete codes that ended more than a day ago; returns how many."""
    now = now or timezone.now()
    deleted, _ = OneTimeCode.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    return deleted


PURPOSE_LABELS = dict(CodePurpose.choices)


SMS_JOB_PURPOSE = "identity.sms_job"


def queue_delivery(phone: str, template: str, params: dict[str, Any]) -> None:
    """Queue a one-time-code SMS for the worker (``phone`` empty: a decoy that sends nothing).

    The job's arguments are sealed with the personal-data key: the job table holds neither
    the number nor the code in clear.
    """
    from yiwang.core.crypto.service import encrypt_personal
    from yiwang.core.tasks.service import enqueue

    sealed = encrypt_personal(json.dumps({"phone": phone, "template": template,
                                          "params": params}), SMS_JOB_PURPOSE)
    enqueue("identity.deliver_sms", sealed)


def deliver_queued(sealed: str) -> str:
    """Run by the worker: open a job made by :func:`queue_delivery` and send it."""
    from yiwang.core.crypto.service import decrypt_personal

    data = json.loads(decrypt_personal(sealed, SMS_JOB_PURPOSE))
    if not data["phone"]:
        return "decoy"
    return sms.send(data["phone"], data["template"], data["params"], limited=False)
