"""Citizens' accounts (个人账户): registration with a verified phone, passwords, look-up.

A citizen registers with a mainland mobile number proved by an SMS code (that makes an L1
account) and a password that passes Django's validators (at least 10 characters, not a
common password, not only digits, not like the username) and does not contain the phone
number. Accounts are found by username or by phone number; phone numbers are stored
encrypted and looked up through their blind index (``identity.phone``).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core.audit import service as audit
from yiwang.core.crypto.service import blind_index
from yiwang.core.masking.service import mask_name, mask_phone
from yiwang.support.identity.models import AccountSession, AccountType, CodePurpose, Level, User

PHONE_PURPOSE = "identity.phone"
_PHONE = re.compile(r"1[3-9]\d{9}")
_COUNTRY = re.compile(r"^(?:\+|00)?86(?=1\d{10}$)")
_USERNAME = re.compile(r"[a-z][a-z0-9_.-]{3,29}")
_GENERATED_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

PHONE_MESSAGE = _("请输入 11 位中国大陆手机号码，以 1 开头、第二位为 3 至 9,例如 13812345678。")


# --- phone numbers ---------------------------------------------------------------------


def validate_phone(value: object) -> str:
    """A mainland mobile number (``1[3-9]`` + 9 digits) normalised, or ``ValidationError``.

    Full-width digits, spaces, dashes and a ``+86``/``0086``/``86`` prefix are accepted and
    removed: ``+86 138-1234-5678`` → ``13812345678``.
    """
    text = unicodedata.normalize("NFKC", str(value or "")) if isinstance(value, str) else ""
    text = re.sub(r"[\s\-()]", "", text)
    text = _COUNTRY.sub("", text)
    if not _PHONE.fullmatch(text):
        raise ValidationError(PHONE_MESSAGE, code="invalid_phone")
    return text


def phone_index(phone: str) -> str:
    """The blind index under which an account's phone number is looked up."""
    return blind_index(validate_phone(phone), PHONE_PURPOSE)


def find_by_phone(phone: str) -> User | None:
    """The account whose verified phone number this is, or None."""
    try:
        index = phone_index(phone)
    except ValidationError:
        return None
    return User.objects.filter(phone_index=index).first()


def find_account(login: str) -> User | None:
    """The account a person means by ``login``: a phone number or a username, or None.

    One indexed query either way (usernames of citizens are lower-case; an official's name
    as created is matched exactly too).
    """
    text = unicodedata.normalize("NFKC", str(login or "")).strip()
    if not text or len(text) > 150:
        return None
    try:
        phone = validate_phone(text)
    except ValidationError:
        phone = ""
    condition = Q(username=text) | Q(username=text.lower())
    if phone:
        condition |= Q(phone_index=blind_index(phone, PHONE_PURPOSE))
    found = list(User.objects.filter(condition)[:2])
    if len(found) > 1 and phone:
        # A username that looks like someone else's phone number: the phone wins.
        found = [u for u in found if u.phone_index] or found
    return found[0] if found else None


def display_label(user: Any) -> str:
    """How the account is named on screens: the masked name (``李**``), else the username."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    if getattr(user, "display_name", ""):
        return mask_name(str(user.display_name))
    return str(user.get_username())


# --- usernames ---------------------------------------------------------------------------


def validate_username(value: str) -> str:
    """A username a citizen chose: 4 to 30 lower-case letters, digits, ``_ . -``, starting
    with a letter, and not already taken."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip().lower()
    if not _USERNAME.fullmatch(text):
        raise ValidationError(
            _("用户名须为 4 至 30 位，以英文字母开头，只能包含英文字母、数字和 _ . -。"),
            code="invalid_username")
    if User.objects.filter(Q(username=text) | Q(username=value)).exists():
        raise ValidationError(_("该用户名已被使用，请换一个，或留空由系统生成。"),
                              code="username_taken")
    return text


def generate_username() -> str:
    """A fresh username such as ``u7kq3m9xw2`` (not a word, never a phone number)."""
    for _attempt in range(10):
        name = "u" + "".join(secrets.choice(_GENERATED_ALPHABET) for _ in range(9))
        if not User.objects.filter(username=name).exists():
            return name
    raise RuntimeError("could not generate a free username")  # pragma: no cover


# --- passwords ---------------------------------------------------------------------------


def validate_new_password(password: str, user: User) -> None:
    """Django's validators (length, common, numeric, similarity) and no phone number in it."""
    errors: list[ValidationError] = []
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as error:
        errors.extend(error.error_list)
    phone = str(getattr(user, "phone", "") or "")
    if phone and phone[-8:] in password:
        errors.append(ValidationError(_("密码不能包含您的手机号码。"), code="password_has_phone"))
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def _create_citizen(*, phone: str, username: str, password: str) -> User:
    user = User(username=username, account_type=AccountType.CITIZEN, level=Level.L1,
                phone=phone, phone_index=blind_index(phone, PHONE_PURPOSE),
                phone_verified_at=timezone.now())
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # The phone or username was taken between the checks and now (a double submit).
        raise ValidationError(_("该手机号码或用户名已被注册。"), code="taken") from None
    audit.record("identity.registered", user, actor=user,
                 detail={"phone": mask_phone(phone), "username": username})
    return user


def register_citizen(phone: str, password: str, code: str, *, username: str = "") -> User:
    """Open an L1 citizen account for the holder of ``phone`` who typed the SMS ``code``.

    Checks the username (chosen, or generated when empty) and the password first, then the
    code (purpose ``register``; a wrong code counts against it), then creates the account.
    Raises ``ValidationError`` with a message per problem. Audited ``identity.registered``.
    """
    from yiwang.support.identity import otp

    phone = validate_phone(phone)
    chosen = validate_username(username) if username.strip() else ""
    name = chosen or generate_username()
    validate_new_password(password, User(username=name, phone=phone))
    otp.verify(phone, CodePurpose.REGISTER, code)
    if User.objects.filter(phone_index=blind_index(phone, PHONE_PURPOSE)).exists():
        # Registered meanwhile (codes for registered phones are never sent, so this is a race).
        raise ValidationError(_("该手机号码已注册，请直接登录。"), code="phone_taken")
    return _create_citizen(phone=phone, username=name, password=password)


@transaction.atomic
def change_password(user: User, new_password: str, *, old_password: str | None = None,
                    recently_authenticated: bool = False, keep_sid: str = "",
                    actor: Any = None) -> int:
    """Set a new password for ``user``; returns how many of their other sessions were ended.

    The current password must be given unless the caller established that the person
    authenticated within the last few minutes (``recently_authenticated``, e.g. having just
    signed in with an SMS code because they forgot it). The new one must pass the policy and
    differ from the old. Every other session (``keep_sid`` is kept) is ended, so a thief who
    knew the old password is signed out. Audited ``identity.password_changed``.
    """
    from yiwang.support.identity import sessions

    if not recently_authenticated and (not old_password
                                       or not user.check_password(old_password)):
        raise ValidationError({"old_password": _("当前密码不正确。")}, code="wrong_password")
    if user.has_usable_password() and user.check_password(new_password):
        raise ValidationError({"new_password1": _("新密码不能与当前密码相同。")},
                              code="same_password")
    try:
        validate_new_password(new_password, user)
    except ValidationError as error:
        raise ValidationError({"new_password1": error.error_list}) from None
    user.set_password(new_password)
    user.save(update_fields=["password"])
    ended = 0
    for session in AccountSession.objects.filter(user=user, ended_at__isnull=True).exclude(
            sid=keep_sid):
        if sessions.end_session(session, reason="password_changed", actor=actor or user):
            ended += 1
    audit.record("identity.password_changed", user, actor=actor or user,
                 detail={"without_old_password": bool(recently_authenticated),
                         "sessions_ended": ended})
    return ended


@transaction.atomic
def load_citizen_account(username: str, *, phone: str, password_hash: str,
                         source: str) -> User:
    """Create (or update) a citizen's L1 account whose phone another system already verified.

    For bulk loads — the demo city, or accounts migrated from an older 统一身份 system
    (``source`` names it, and is audited) — where no SMS round trip is possible. Pass an
    already computed ``password_hash`` (Argon2 per account would take minutes per thousand).
    Real-name verification is then done with ``realname.verify_real_name`` as for anyone.
    """
    phone = validate_phone(phone)
    index = blind_index(phone, PHONE_PURPOSE)
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=validate_username(username), account_type=AccountType.CITIZEN,
                    level=Level.L1)
    elif user.account_type != AccountType.CITIZEN:
        raise ValidationError(_("该用户名已被其他类型的账户使用。"), code="taken")
    holder = User.objects.filter(phone_index=index).exclude(pk=user.pk).first()
    if holder is not None:
        raise ValidationError(_("该手机号码或用户名已被注册。"), code="taken")
    user.phone, user.phone_index = phone, index
    user.phone_verified_at = user.phone_verified_at or timezone.now()
    user.password = password_hash
    user.save()
    audit.record("identity.account_loaded", user,
                 detail={"phone": mask_phone(phone), "source": source[:64]})
    return user
