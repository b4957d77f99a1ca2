"""Passkeys and security keys (通行密钥，WebAuthn) through py_webauthn.

Registration asks for a discoverable credential (resident key preferred) with user
verification preferred and no attestation, excluding the person's existing credentials.
Authentication works in three modes:

- ``login``: passwordless first factor. ``allowCredentials`` is empty; the authenticator
  offers its discoverable credentials and the account is found by credential id and
  confirmed by the user handle it returns.
- ``second_factor``: for the pending sign-in of the pipeline; only that person's credentials.
- ``step_up``: a signed-in person re-confirms (before removing a factor, or to reach L3).

Each ceremony's challenge lives in the Django session, works once and expires. The
signature counter must grow when an authenticator keeps one: a counter that does not grow
means a cloned key, which is refused and audited (``identity.passkey_clone_warning``).

The relying party id and origin come from ``YIWANG_PUBLIC_URL`` (the public listener).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from yiwang.core.audit import service as audit
from yiwang.core.crypto.service import blind_index
from yiwang.support.identity.models import WebAuthnCredential

RP_NAME = "一网通办"
SESSION_KEY = "yiwang_webauthn"
TIMEOUT_MS = 120_000
CHALLENGE_TTL_SECONDS = 180  # the browser's timeout plus time to send the answer
MAX_PASSKEYS = 10

REGISTER = "register"
LOGIN = "login"
SECOND_FACTOR = "second_factor"
STEP_UP = "step_up"
AUTH_MODES = (LOGIN, SECOND_FACTOR, STEP_UP)


class PasskeyError(ValidationError):
    """A passkey ceremony was refused; the message can be shown to the person."""


@dataclass(frozen=True)
class Authenticated:
    """A verified passkey assertion: who, with which credential, and the amr it proves."""

    user: Any
    credential: WebAuthnCredential
    user_verified: bool

    @property
    def amr(self) -> list[str]:
        return ["hwk", "user"] if self.user_verified else ["hwk"]

    @property
    def method(self) -> str:
        return "passkey_uv" if self.user_verified else "passkey"


# --- Relying party ---------------------------------------------------------------------


def expected_origin() -> str:
    """``scheme://host[:port]`` of the public listener, as browsers put it in clientDataJSON."""
    parts = urlsplit(str(settings.YIWANG_PUBLIC_URL))
    return f"{parts.scheme}://{parts.netloc}"


def rp_id() -> str:
    """The WebAuthn relying party id: the public listener's host name."""
    return urlsplit(str(settings.YIWANG_PUBLIC_URL)).hostname or "localhost"


def user_handle(user: Any) -> bytes:
    """The opaque, stable WebAuthn user handle of ``user`` (32 bytes, no personal data)."""
    return bytes.fromhex(blind_index(f"webauthn-user:{user.pk}", "identity.webauthn_user"))


def _now() -> float:
    return time.time()


# --- Challenges ------------------------------------------------------------------------


def _store_challenge(request: HttpRequest, *, purpose: str, challenge: bytes,
                     user: Any = None, next_url: str = "") -> None:
    request.session[SESSION_KEY] = {
        "purpose": purpose,
        "challenge": bytes_to_base64url(challenge),
        "expires": _now() + CHALLENGE_TTL_SECONDS,
        "user": getattr(user, "pk", None),
        "next": next_url,
    }


def _take_challenge(request: HttpRequest, purposes: tuple[str, ...]) -> dict[str, Any]:
    """The pending ceremony of this browser, removed from the session (a challenge works once)."""
    state = request.session.pop(SESSION_KEY, None)
    if not isinstance(state, dict) or state.get("purpose") not in purposes:
        raise PasskeyError(_("验证请求已失效，请重试。"))
    if float(state.get("expires", 0)) < _now():
        raise PasskeyError(_("验证超时，请重试。"))
    return state


def pending_next_url(request: HttpRequest) -> str:
    """The ``next`` URL stored with this browser's pending ceremony (empty when none)."""
    state = request.session.get(SESSION_KEY)
    return str(state.get("next", "")) if isinstance(state, dict) else ""


def _options_dict(options: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result


def _descriptors(user: Any) -> list[PublicKeyCredentialDescriptor]:
    found = []
    for cred_id, transports in WebAuthnCredential.objects.filter(user=user).values_list(
            "credential_id", "transports"):
        try:
            raw = base64url_to_bytes(cred_id)
        except ValueError:  # a damaged row must not stop the person's other keys
            continue
        known = [AuthenticatorTransport(t) for t in (transports or [])
                 if t in AuthenticatorTransport._value2member_map_]
        found.append(PublicKeyCredentialDescriptor(id=raw, transports=known or None))
    return found


def _parse(credential: Any) -> Any:
    if isinstance(credential, (bytes, str)):
        try:
            credential = json.loads(credential)
        except (ValueError, UnicodeDecodeError):
            raise PasskeyError(_("浏览器返回的数据无法识别，请重试。")) from None
    if not isinstance(credential, dict):
        raise PasskeyError(_("浏览器返回的数据无法识别，请重试。"))
    return credential


# --- Registration ----------------------------------------------------------------------


def registration_options(request: HttpRequest, user: Any) -> dict[str, Any]:
    """``PublicKeyCredentialCreationOptions`` (JSON) to add a passkey to ``user``'s account."""
    if WebAuthnCredential.objects.filter(user=user).count() >= MAX_PASSKEYS:
        raise PasskeyError(_("最多可绑定 %(count)d 个通行密钥，请先删除不再使用的。")
                           % {"count": MAX_PASSKEYS})
    options = generate_registration_options(
        rp_id=rp_id(), rp_name=RP_NAME,
        user_id=user_handle(user), user_name=user.get_username(),
        user_display_name=str(getattr(user, "display_name", "") or user.get_username()),
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=_descriptors(user),
    )
    _store_challenge(request, purpose=REGISTER, challenge=options.challenge, user=user)
    return _options_dict(options)


def register(request: HttpRequest, user: Any, credential: Any, *,
             name: str = "") -> tuple[WebAuthnCredential, list[str]]:
    """Verify the browser's answer to :func:`registration_options` and store the passkey.

    Returns the new credential and, when it is ``user``'s first authenticator, new recovery
    codes to show once. Raises :class:`PasskeyError`. Audited as ``identity.mfa_added``.
    """
    from yiwang.support.identity import factors

    state = _take_challenge(request, (REGISTER,))
    if state.get("user") != user.pk:
        raise PasskeyError(_("验证请求已失效，请重试。"))
    data = _parse(credential)
    try:
        verified = verify_registration_response(
            credential=data, expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=rp_id(), expected_origin=expected_origin())
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        audit.record("identity.passkey_register_failed", user, actor=user,
                     detail={"reason": str(exc)[:200]})
        raise PasskeyError(_("通行密钥未能通过验证，请重试。")) from None
    response = data.get("response") if isinstance(data.get("response"), dict) else {}
    transports = [t for t in (response.get("transports") or [])
                  if isinstance(t, str) and t in AuthenticatorTransport._value2member_map_]
    label = (name or "").strip()[:64] or _("通行密钥")
    try:
        with transaction.atomic():
            row = WebAuthnCredential.objects.create(
                user=user, name=label,
                credential_id=bytes_to_base64url(verified.credential_id),
                public_key=bytes_to_base64url(verified.credential_public_key),
                sign_count=verified.sign_count, transports=transports,
                aaguid=str(verified.aaguid or ""), user_verified=verified.user_verified,
                backed_up=verified.credential_backed_up,
            )
            audit.record("identity.mfa_added", user, actor=user,
                         detail={"factor": "passkey", "credential": row.pk,
                                 "user_verified": verified.user_verified})
            codes = factors.ensure_recovery_codes(user)
    except IntegrityError:
        raise PasskeyError(_("这个通行密钥已经绑定过了。")) from None
    return row, codes


# --- Authentication --------------------------------------------------------------------


def authentication_options(request: HttpRequest, *, mode: str, user: Any = None,
                           next_url: str = "") -> dict[str, Any]:
    """``PublicKeyCredentialRequestOptions`` (JSON) for a ``login``, ``second_factor`` or
    ``step_up`` ceremony. ``user`` is required for the last two."""
    if mode not in AUTH_MODES:
        raise PasskeyError(_("验证请求已失效，请重试。"))
    allow: list[PublicKeyCredentialDescriptor] = []
    if mode != LOGIN:
        if user is None:
            raise PasskeyError(_("登录已超时，请重新登录。"))
        allow = _descriptors(user)
        if not allow:
            raise PasskeyError(_("您的账户还没有绑定通行密钥。"))
    options = generate_authentication_options(
        rp_id=rp_id(), timeout=TIMEOUT_MS, allow_credentials=allow,
        user_verification=UserVerificationRequirement.PREFERRED)
    _store_challenge(request, purpose=mode, challenge=options.challenge,
                     user=user if mode != LOGIN else None, next_url=next_url)
    return _options_dict(options)


def _refuse(reason: str, user: Any = None, **detail: Any) -> PasskeyError:
    audit.record("identity.passkey_failed", user, actor=user,
                 detail={"reason": reason, **detail})
    return PasskeyError(_("通行密钥验证未通过，请重试或换用其他方式。"))


def authenticate(request: HttpRequest, credential: Any, *, mode: str,
                 user: Any = None) -> Authenticated:
    """Verify the browser's answer to :func:`authentication_options` for ``mode``.

    For ``login`` the account is the credential's owner (confirmed by the user handle); for
    the other modes the credential must be ``user``'s. Raises :class:`PasskeyError`.
    """
    state = _take_challenge(request, (mode,))
    if mode != LOGIN and (user is None or state.get("user") != user.pk):
        raise PasskeyError(_("验证请求已失效，请重试。"))
    data = _parse(credential)
    try:
        parsed = parse_authentication_credential_json(data)
    except (WebAuthnException, ValueError, TypeError):
        raise PasskeyError(_("浏览器返回的数据无法识别，请重试。")) from None
    row = (WebAuthnCredential.objects.select_related("user")
           .filter(credential_id=bytes_to_base64url(parsed.raw_id)).first())
    if row is None:
        raise _refuse("unknown_credential", user)
    owner = row.user
    if mode != LOGIN and owner.pk != user.pk:
        raise _refuse("foreign_credential", user)
    handle = parsed.response.user_handle
    if mode == LOGIN and handle is None:
        raise _refuse("no_user_handle", owner)
    if handle is not None and handle != user_handle(owner):
        raise _refuse("user_handle_mismatch", owner)
    if not owner.is_active:
        raise _refuse("inactive_account", owner)
    try:
        # The counter is checked below, after the signature proved the answer genuine, so
        # that a clone warning is raised only for the real key (or a copy of it).
        verified = verify_authentication_response(
            credential=parsed, expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=rp_id(), expected_origin=expected_origin(),
            credential_public_key=base64url_to_bytes(row.public_key),
            credential_current_sign_count=0)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise _refuse("invalid_assertion", owner, credential=row.pk,
                      error=str(exc)[:200]) from None
    stored = int(row.sign_count)
    new = int(verified.new_sign_count)
    if (new > 0 or stored > 0) and new <= stored:
        audit.record("identity.passkey_clone_warning", owner, actor=owner,
                     detail={"credential": row.pk, "stored_count": stored, "new_count": new})
        raise PasskeyError(_("这个通行密钥的使用计数异常，可能已被复制，本次验证已拒绝。"
                             "请换用其他方式登录，并在安全设置中检查您的通行密钥。"))
    # Conditional on the count we checked: of two concurrent uses of one count, one wins.
    moved = WebAuthnCredential.objects.filter(pk=row.pk, sign_count=stored).update(
        sign_count=new, last_used_at=timezone.now(),
        backed_up=verified.credential_backed_up)
    if not moved:
        audit.record("identity.passkey_clone_warning", owner, actor=owner,
                     detail={"credential": row.pk, "stored_count": stored, "new_count": new,
                             "concurrent": True})
        raise PasskeyError(_("这个通行密钥的使用计数异常，可能已被复制，本次验证已拒绝。"
                             "请换用其他方式登录，并在安全设置中检查您的通行密钥。"))
    row.sign_count = new
    audit.record("identity.passkey_used", owner, actor=owner,
                 detail={"credential": row.pk, "mode": mode,
                         "user_verified": verified.user_verified})
    return Authenticated(user=owner, credential=row, user_verified=verified.user_verified)


# --- Management ------------------------------------------------------------------------


def list_passkeys(user: Any) -> list[WebAuthnCredential]:
    """``user``'s passkeys, oldest first."""
    return list(WebAuthnCredential.objects.filter(user=user).order_by("created_at", "id"))


@transaction.atomic
def rename_passkey(user: Any, credential_pk: int, name: str, *, actor: Any) -> WebAuthnCredential:
    """Rename one of ``user``'s passkeys. Raises ``WebAuthnCredential.DoesNotExist``."""
    name = (name or "").strip()[:64]
    if not name:
        raise ValidationError(_("请填写名称。"))
    row = WebAuthnCredential.objects.get(pk=credential_pk, user=user)
    WebAuthnCredential.objects.filter(pk=row.pk).update(name=name)
    row.name = name
    return row


@transaction.atomic
def remove_passkey(user: Any, credential_pk: int, *, actor: Any) -> None:
    """Remove one of ``user``'s passkeys (the view demands a recent sign-in first).

    Raises ``WebAuthnCredential.DoesNotExist``. Audited as ``identity.mfa_removed``.
    """
    row = WebAuthnCredential.objects.get(pk=credential_pk, user=user)
    row.delete()
    audit.record("identity.mfa_removed", user, actor=actor,
                 detail={"factor": "passkey", "credential": credential_pk})
