"""Real-name verification (实名认证): an L1 account becomes L2.

The person types their name and resident ID number. The number's checksum is checked first
(GB 11643, a typing mistake is told at once and costs nothing), then a registry plugin
confirms that the name and number belong together. The plugin in use is named by
``YIWANG_REALNAME_REGISTRY``; ``local`` matches against this instance's population registry
(人口库). A national service (e.g. the public-security identity check) is added as another
plugin with :func:`register_registry`.

One person, one account: an ID number already bound to another account is refused. Failed
matches are throttled (:data:`ACCOUNT_FAILURES` per account and :data:`ADDRESS_FAILURES`
per address a day), because each one is a question to the registry, and audited with the
number masked.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core.audit import service as audit
from yiwang.core.crypto.service import blind_index
from yiwang.core.identifiers.service import InvalidIdentifier, validate_id_number
from yiwang.core.masking.service import mask_id_number, mask_name
from yiwang.support.identity import throttle
from yiwang.support.identity.models import Level, User

ID_PURPOSE = "identity.id_number"
ACCOUNT_FAILURES = 5
ADDRESS_FAILURES = 20
FAILURE_WINDOW = timedelta(days=1)

MISMATCH_MESSAGE = _("姓名与身份证号码未能通过核验。请按身份证上的写法核对姓名和号码后重试。")
BOUND_MESSAGE = _("该身份证号码已绑定另一个账户。一个人只能有一个实名账户：请用那个账户登录；"
                  "如果那不是您本人开通的，请携带身份证到政务服务中心办理。")
TOO_MANY_MESSAGE = _("实名核验失败的次数过多，请在约 %(hours)d 小时后再试。")
UNAVAILABLE_MESSAGE = _("实名核验服务暂时不可用，请稍后再试。")


class RegistryUnavailable(Exception):
    """The registry could not answer (network, maintenance): not the person's fault."""


class RealNameRegistry:
    """What a registry plugin implements. ``name`` is its key in ``YIWANG_REALNAME_REGISTRY``."""

    name = ""

    def matches(self, *, name: str, id_number: str) -> bool:
        """Whether the person with ``id_number`` (valid, normalised) is called ``name``.

        False when the number is unknown as well, so that callers cannot tell the two apart.
        Raises :class:`RegistryUnavailable` when it cannot answer.
        """
        raise NotImplementedError


_registries: dict[str, type[RealNameRegistry]] = {}


def register_registry(name: str) -> Callable[[type[RealNameRegistry]], type[RealNameRegistry]]:
    """Class decorator adding a registry plugin under ``name``."""

    def decorate(cls: type[RealNameRegistry]) -> type[RealNameRegistry]:
        cls.name = name
        _registries[name] = cls
        return cls

    return decorate


def get_registry() -> RealNameRegistry:
    """The configured registry plugin (``YIWANG_REALNAME_REGISTRY``)."""
    name = str(getattr(settings, "YIWANG_REALNAME_REGISTRY", "local"))
    cls = _registries.get(name)
    if cls is None:
        known = ", ".join(sorted(_registries))
        raise ImproperlyConfigured(
            f"YIWANG_REALNAME_REGISTRY={name!r} is not a known registry ({known})")
    return cls()


def normalise_name(value: str) -> str:
    """A name as compared: NFKC, no spaces, the middle dots of minority and foreign names
    (· ・ • ‧) made one."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = "".join(text.split())
    for dot in ("・", "•", "‧", "∙", "．", "."):
        text = text.replace(dot, "·")
    return text


@register_registry("local")
class LocalRegistry(RealNameRegistry):
    """This instance's population registry (filled by the demo city)."""

    def matches(self, *, name: str, id_number: str) -> bool:
        from yiwang.platform.registry.service import find_person

        person = find_person(id_number)
        return person is not None and normalise_name(person.name) == normalise_name(name)


# --- verification ------------------------------------------------------------------------


def _keys(user: Any, request: HttpRequest | None) -> list[tuple[str, int]]:
    keys = [(f"realname:u{user.pk}", ACCOUNT_FAILURES)]
    address = throttle.address_key(request)
    if address:
        keys.append(("realname:" + address, ADDRESS_FAILURES))
    return keys


def _check_throttle(user: Any, request: HttpRequest | None) -> None:
    from yiwang.support.identity.models import AuthThrottle

    now = timezone.now()
    for key, limit in _keys(user, request):
        row = AuthThrottle.objects.filter(key=key).first()
        if row and now - row.window_started_at < FAILURE_WINDOW and row.failures >= limit:
            left = row.window_started_at + FAILURE_WINDOW - now
            hours = max(1, int(-(-left.total_seconds() // 3600)))
            raise ValidationError(TOO_MANY_MESSAGE, code="too_many", params={"hours": hours})


def _count_failure(user: Any, request: HttpRequest | None) -> None:
    for key, limit in _keys(user, request):
        throttle.hit(key, limit=limit, window=FAILURE_WINDOW)


def _refuse(user: Any, actor: Any, reason: str, id_number: str, **extra: Any) -> None:
    audit.record("identity.realname_failed", user, actor=actor,
                 detail={"reason": reason, "id_number": mask_id_number(id_number), **extra})


def verify_real_name(user: User, *, name: str, id_number: str, actor: Any = None,
                     request: HttpRequest | None = None) -> User:
    """Verify ``user``'s real name against the registry; on success the account is L2.

    Stores the name and number encrypted (with the number's blind index), ``verified_at``,
    ``verified_by="registry"``, ``level=2`` and the masked name as ``display_name``.
    Raises ``ValidationError`` (keyed by field where one is at fault) for an invalid number,
    a mismatch, a number bound to another account, too many failures or a registry outage.
    Audited ``identity.realname_verified`` / ``identity.realname_failed``.
    """
    actor = actor or user
    clean_name = normalise_name(name)
    if not clean_name:
        raise ValidationError({"name": _("请输入您身份证上的姓名。")}, code="required")
    if len(clean_name) > 64:
        raise ValidationError({"name": _("姓名不能超过 64 个字。")}, code="too_long")
    if getattr(user, "verified_at", None):
        raise ValidationError(_("您的账户已经完成实名认证。"), code="already_verified")
    try:
        parsed = validate_id_number(id_number)
    except InvalidIdentifier as error:
        _refuse(user, actor, "invalid_id_number", str(id_number or "")[:18], part=error.part)
        raise ValidationError({"id_number": error.message}, code="invalid_id_number") from None
    number = parsed.value
    try:
        _check_throttle(user, request)
    except ValidationError:
        _refuse(user, actor, "throttled", number)
        raise
    try:
        matched = get_registry().matches(name=clean_name, id_number=number)
    except RegistryUnavailable:
        _refuse(user, actor, "registry_unavailable", number)
        raise ValidationError(UNAVAILABLE_MESSAGE, code="unavailable") from None
    if not matched:
        _count_failure(user, request)
        _refuse(user, actor, "mismatch", number, registry=get_registry().name)
        raise ValidationError(MISMATCH_MESSAGE, code="mismatch")
    index = blind_index(number, ID_PURPOSE)
    if User.objects.filter(id_number_index=index).exclude(pk=user.pk).exists():
        _refuse(user, actor, "bound_to_another_account", number)
        raise ValidationError({"id_number": BOUND_MESSAGE}, code="bound")
    return _bind(user, clean_name, number, index, actor)


@transaction.atomic
def _bind(user: User, name: str, number: str, index: str, actor: Any) -> User:
    user.real_name = name
    user.id_number = number
    user.id_number_index = index
    user.verified_at = timezone.now()
    user.verified_by = "registry"
    user.level = Level.L2
    user.display_name = mask_name(name)
    try:
        with transaction.atomic():
            user.save(update_fields=["real_name", "id_number", "id_number_index", "verified_at",
                                     "verified_by", "level", "display_name"])
    except IntegrityError:
        # Bound to another account between the check and now.
        raise ValidationError({"id_number": BOUND_MESSAGE}, code="bound") from None
    from yiwang.support.identity.models import AuthThrottle

    AuthThrottle.objects.filter(key=f"realname:u{user.pk}").delete()
    audit.record("identity.realname_verified", user, actor=actor,
                 detail={"id_number": mask_id_number(number), "registry": get_registry().name})
    return user
