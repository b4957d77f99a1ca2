"""Sending text messages (短信) through a gateway plugin.

The interface every gateway implements (:class:`SmsGateway`)::

    send(phone: str, template: str, text: str, params: dict) -> str   # the message id

raising :class:`SmsError` when the message could not be handed over. Gateways register
themselves with :func:`register_gateway`; the setting ``YIWANG_SMS_GATEWAY`` names the one
in use. Operators' gateways (carrier or cloud SMS services) are added the same way, in
their own module imported at start-up.

The ``local`` gateway stands for the phone: it appends each message as one JSON line to
``YIWANG_DATA_DIR/sms/outbox.jsonl`` (mode 0600: it holds the codes and full numbers) and
logs a line with the number masked. Tests and the demo read the latest code for a phone
with :func:`latest_code`.

:func:`send` is what the rest of yiwang calls: it renders the template in the active
language, enforces the per-phone sending limits (:data:`PER_MINUTE` and :data:`PER_DAY`),
hands the message to the gateway and audits it (``identity.sms_sent``, number masked).
It runs synchronously because the person is waiting for the code and must be told at once
when it could not be sent.
"""

from __future__ import annotations

import json
import logging
import math
import os
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core.audit import service as audit
from yiwang.core.masking.service import mask_phone

logger = logging.getLogger(__name__)

PER_MINUTE = 1
PER_DAY = 10

TEMPLATES: dict[str, Any] = {
    "otp": _("【示例市一网通办】您的验证码是 %(code)s,用于%(purpose)s,%(minutes)s 分钟内有效。"
             "请勿告诉他人；如非本人操作，请忽略本短信。"),
    "already_registered": _("【示例市一网通办】有人正在用本手机号码注册账户，但该号码已经注册。"
                            "您可以直接登录；忘记密码时可用短信验证码登录后设置新密码。"
                            "如非本人操作，请忽略本短信。"),
    # notifications of the other modules (办件进度 …): the title only, details on the portal
    "notice": _("【示例市一网通办】%(title)s。详情请登录一网通办查看。"),
}


class SmsError(Exception):
    """A message could not be sent; ``message`` says so in words a person can act on."""

    def __init__(self, message: Any = None, *, detail: str = "") -> None:
        self.message = message if message is not None else _("短信发送失败，请稍后再试。")
        self.detail = detail
        super().__init__(detail or str(self.message))


class SmsRateLimited(SmsError):
    """Too many messages were asked for; ``retry_after`` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, int(retry_after))
        if self.retry_after <= 120:
            message = _("获取验证码过于频繁，请在 %(seconds)d 秒后再试。") % {
                "seconds": self.retry_after}
        else:
            message = _("获取验证码的次数已达上限，请在约 %(minutes)d 分钟后再试。") % {
                "minutes": math.ceil(self.retry_after / 60)}
        super().__init__(message, detail="rate limited")


# --- the interface and the registry ---------------------------------------------------


class SmsGateway:
    """What a gateway plugin implements. ``name`` is its key in ``YIWANG_SMS_GATEWAY``."""

    name = ""
    # A real gateway is an HTTP call whose time (and failures) would show in the response
    # and tell whether a number has an account: one-time codes are then sent by the worker.
    # The local gateway only appends to a file, so it sends at once (the demo reads it).
    synchronous = False

    def send(self, phone: str, template: str, text: str, params: Mapping[str, Any]) -> str:
        """Hand one message to the carrier; return its message id or raise :class:`SmsError`.

        ``template`` is the template's name (gateways that need pre-registered templates map
        it to theirs, with ``params``); ``text`` is the rendered message.
        """
        raise NotImplementedError


_gateways: dict[str, type[SmsGateway]] = {}


def register_gateway(name: str) -> Callable[[type[SmsGateway]], type[SmsGateway]]:
    """Class decorator adding a gateway under ``name``."""

    def decorate(cls: type[SmsGateway]) -> type[SmsGateway]:
        cls.name = name
        _gateways[name] = cls
        return cls

    return decorate


def gateway_names() -> list[str]:
    return sorted(_gateways)


def get_gateway() -> SmsGateway:
    """The configured gateway (``YIWANG_SMS_GATEWAY``)."""
    name = str(getattr(settings, "YIWANG_SMS_GATEWAY", "local"))
    cls = _gateways.get(name)
    if cls is None:
        known = ", ".join(gateway_names())
        raise ImproperlyConfigured(
            f"YIWANG_SMS_GATEWAY={name!r} is not a known SMS gateway ({known})")
    return cls()


# --- the local gateway -------------------------------------------------------------------


def outbox_path() -> Path:
    """Where the local gateway writes: ``YIWANG_DATA_DIR/sms/outbox.jsonl``."""
    return Path(settings.DATA_DIR) / "sms" / "outbox.jsonl"


@register_gateway("local")
class LocalGateway(SmsGateway):
    """Writes messages to the outbox file (which stands for the phones) and the log."""

    synchronous = True

    def send(self, phone: str, template: str, text: str, params: Mapping[str, Any]) -> str:
        message_id = "local-" + uuid.uuid4().hex
        record = {"id": message_id, "at": timezone.now().isoformat(), "phone": phone,
                  "template": template, "params": dict(params), "text": text}
        line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode()
        path = outbox_path()
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.fchmod(fd, 0o600)
                _lock(fd)
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError as error:
            raise SmsError(detail=f"local outbox not writable: {error.strerror}") from error
        logger.info("SMS %s to %s (template %s) written to the local outbox", message_id,
                    mask_phone(phone), template)
        return message_id


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX: appends of one line suffice
        return
    fcntl.flock(fd, fcntl.LOCK_EX)  # released when the descriptor is closed


def read_outbox(phone: str | None = None, *, limit: int = 50) -> list[dict[str, Any]]:
    """The latest messages of the local outbox (newest last), for one phone if given."""
    path = outbox_path()
    if not path.exists():
        return []
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 1_000_000))
        lines = handle.read().decode(errors="replace").splitlines()
    found: list[dict[str, Any]] = []
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the first, cut line of the tail
        if phone is None or record.get("phone") == phone:
            found.append(record)
            if len(found) >= limit:
                break
    return list(reversed(found))


def latest_code(phone: str, *, purpose: str | None = None) -> str | None:
    """The code of the newest one-time-code message to ``phone`` in the local outbox."""
    from yiwang.support.identity.accounts import validate_phone

    phone = validate_phone(phone)
    for record in reversed(read_outbox(phone)):
        params = record.get("params") or {}
        if record.get("template") == "otp" and (purpose is None
                                                 or params.get("purpose") == purpose):
            return str(params.get("code"))
    return None


# --- sending -----------------------------------------------------------------------------


def _quota_key(kind: str, phone: str) -> str:
    from yiwang.support.identity.accounts import phone_index

    return f"rate:sms{kind}:{phone_index(phone)[:40]}"


def consume_quota(phone: str) -> None:
    """Count one message to ``phone`` against its limits, or raise :class:`SmsRateLimited`."""
    from yiwang.support.identity import throttle

    wait = throttle.hit(_quota_key("1m", phone), limit=PER_MINUTE, window=timedelta(minutes=1))
    if not wait:
        wait = throttle.hit(_quota_key("1d", phone), limit=PER_DAY, window=timedelta(days=1))
    if wait:
        raise SmsRateLimited(wait)


def render(template: str, params: Mapping[str, Any]) -> str:
    """The text of ``template`` with ``params``, in the active language."""
    from yiwang.support.identity.models import CodePurpose

    if template not in TEMPLATES:
        raise SmsError(detail=f"unknown SMS template {template!r}")
    values = dict(params)
    if "purpose" in values:
        values["purpose"] = str(dict(CodePurpose.choices).get(values["purpose"],
                                                               values["purpose"]))
    return str(TEMPLATES[template]) % values


def send(phone: str, template: str, params: Mapping[str, Any] | None = None, *,
         limited: bool = True) -> str:
    """Send ``template`` with ``params`` to ``phone``; returns the gateway's message id.

    Counts against the phone's limits unless ``limited`` is False (a caller that already
    counted it). Raises ``ValidationError`` for a bad number, :class:`SmsRateLimited` or
    :class:`SmsError`. Audited as ``identity.sms_sent`` / ``identity.sms_failed`` with the
    number masked; the code itself is never audited or logged.
    """
    from yiwang.support.identity.accounts import validate_phone

    phone = validate_phone(phone)
    values = dict(params or {})
    text = render(template, values)
    if limited:
        consume_quota(phone)
    gateway = get_gateway()
    try:
        message_id = gateway.send(phone, template, text, values)
    except SmsError as error:
        logger.error("SMS to %s via %s failed: %s", mask_phone(phone), gateway.name,
                     error.detail or error)
        audit.record("identity.sms_failed", ("identity.sms", ""),
                     detail={"phone": mask_phone(phone), "template": template,
                             "gateway": gateway.name})
        raise
    audit.record("identity.sms_sent", ("identity.sms", message_id[:64]),
                 detail={"phone": mask_phone(phone), "template": template,
                         "gateway": gateway.name})
    return message_id
