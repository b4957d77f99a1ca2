"""Passkeys, verified for real by py_webauthn against a small software authenticator.

The authenticator below does what a platform authenticator does: an EC P-256 key per
credential, "none" attestation, authenticatorData with the rpIdHash, flags (UP, UV, AT) and
a signature counter, clientDataJSON with the challenge and origin, and an ES256 signature
over authenticatorData || SHA-256(clientDataJSON).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import asdict
from datetime import timedelta
from importlib import import_module
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.support.identity import passkeys, pipeline
from yiwang.support.identity.models import (
    AccountSession,
    Level,
    RecoveryCode,
    User,
    WebAuthnCredential,
)
from yiwang.support.identity.sessions import SESSION_KEY
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def events(action: str) -> Any:
    """Audit events of exactly ``action``."""
    return audit.search(audit.AuditFilter(action=action)).filter(action=action)

UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    """One passkey on a pretend device."""

    def __init__(self, *, user_verification: bool = True, origin: str | None = None) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.counter = 0
        self.user_verification = user_verification
        self.origin = origin or passkeys.expected_origin()
        self.user_handle: bytes | None = None
        self.rp_id = ""

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin,
                           "crossOrigin": False}).encode()

    def _flags(self, extra: int = 0) -> int:
        return UP | (UV if self.user_verification else 0) | extra

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        """``navigator.credentials.create()``."""
        self.rp_id = options["rp"]["id"]
        self.user_handle = unb64url(options["user"]["id"])
        excluded = {item["id"] for item in options.get("excludeCredentials", [])}
        if b64url(self.credential_id) in excluded:
            raise RuntimeError("InvalidStateError")
        client_data = self._client_data("webauthn.create", options["challenge"])
        auth_data = (hashlib.sha256(self.rp_id.encode()).digest()
                     + bytes([self._flags(AT)]) + struct.pack(">I", self.counter)
                     + bytes(16) + struct.pack(">H", len(self.credential_id))
                     + self.credential_id + self._cose_key())
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {"clientDataJSON": b64url(client_data),
                             "attestationObject": b64url(attestation),
                             "transports": ["internal", "hybrid"]}}

    def get(self, options: dict[str, Any], *, counter_step: int = 1,
            user_handle: bytes | bool | None = True) -> dict[str, Any]:
        """``navigator.credentials.get()``."""
        allowed = [item["id"] for item in options.get("allowCredentials", [])]
        if allowed and b64url(self.credential_id) not in allowed:
            raise RuntimeError("NotAllowedError")
        self.counter += counter_step
        client_data = self._client_data("webauthn.get", options["challenge"])
        auth_data = (hashlib.sha256(options["rpId"].encode()).digest()
                     + bytes([self._flags()]) + struct.pack(">I", self.counter))
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        response: dict[str, Any] = {"clientDataJSON": b64url(client_data),
                                    "authenticatorData": b64url(auth_data),
                                    "signature": b64url(signature)}
        handle = self.user_handle if user_handle is True else user_handle
        if handle:
            response["userHandle"] = b64url(handle)
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
                "type": "public-key", "response": response}


def server_session(client: Any) -> Any:
    """The session the server last gave ``client`` (its zone cookie, after a sign-in)."""
    engine = import_module(settings.SESSION_ENGINE)
    morsel = client.cookies.get("yiwang_public") or client.cookies.get(
        settings.SESSION_COOKIE_NAME)
    return engine.SessionStore(morsel.value if morsel else None)


def signed_in_sid(client: Any) -> str | None:
    return server_session(client).get(SESSION_KEY)


def make_user(username: str = "zhangsan", *, verified: bool = False) -> User:
    return User.objects.create_user(
        username=username, password="correct horse battery", display_name="张三",
        verified_at=timezone.now() if verified else None,
        level=Level.L2 if verified else Level.L1)


def post_json(client: Any, name: str, body: dict[str, Any]) -> Any:
    return client.post(reverse(name), data=json.dumps(body), content_type="application/json",
                       HTTP_ACCEPT="application/json")


def register(client: Any, authenticator: SoftAuthenticator, name: str = "我的手机") -> Any:
    options = post_json(client, "identity:passkey_register_options", {})
    assert options.status_code == 200, options.content
    credential = authenticator.create(options.json()["publicKey"])
    return post_json(client, "identity:passkey_register",
                     {"credential": credential, "name": name})


@pytest.fixture
def enrolled(public_client) -> tuple[User, SoftAuthenticator]:  # type: ignore[no-untyped-def]
    """A real-name (L2) citizen with a passkey (user verification), signed out again."""
    user = make_user(verified=True)
    authenticator = SoftAuthenticator()
    sign_in_client(public_client, user, amr=["pwd"])
    assert register(public_client, authenticator).status_code == 200
    public_client.logout()
    return user, authenticator


def login_with(client: Any, authenticator: SoftAuthenticator, *, mode: str = "login",
               next_url: str = "", **get_kwargs: Any) -> Any:
    options = post_json(client, "identity:passkey_options", {"mode": mode, "next": next_url})
    assert options.status_code == 200, options.content
    credential = authenticator.get(options.json()["publicKey"], **get_kwargs)
    return post_json(client, "identity:passkey_verify", {"credential": credential})


# --- the authenticator itself --------------------------------------------------------------


def test_the_software_authenticator_signs_like_a_real_one() -> None:
    authenticator = SoftAuthenticator()
    options = {"rpId": "example.org", "challenge": b64url(b"x" * 32)}
    authenticator.user_handle = b"h"
    assertion = authenticator.get(options)
    data = unb64url(assertion["response"]["authenticatorData"])
    assert data[:32] == hashlib.sha256(b"example.org").digest()
    assert data[32] == UP | UV
    assert struct.unpack(">I", data[33:37])[0] == 1


# --- registration --------------------------------------------------------------------------


def test_registration_options_follow_the_policy(public_client) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    sign_in_client(public_client, user, amr=["pwd"])
    options = post_json(public_client, "identity:passkey_register_options", {}).json()["publicKey"]
    assert options["rp"]["id"] == passkeys.rp_id() == "localhost"
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert options["attestation"] == "none"
    assert options["excludeCredentials"] == []
    assert unb64url(options["user"]["id"]) == passkeys.user_handle(user)
    assert options["user"]["name"] == "zhangsan"
    # The handle is an opaque keyed hash, not the account id or name (WebAuthn: no personal data).
    handle = unb64url(options["user"]["id"])
    assert len(handle) >= 16 and handle not in (str(user.pk).encode(), b"zhangsan")


def test_registering_a_passkey(public_client) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    authenticator = SoftAuthenticator()
    sign_in_client(public_client, user, amr=["pwd"])
    response = register(public_client, authenticator, name="办公电脑")
    assert response.status_code == 200
    # The first authenticator: recovery codes are shown next.
    assert response.json()["redirect"] == reverse("identity:recovery_codes_new")
    assert RecoveryCode.objects.filter(user=user).count() == 10
    row = WebAuthnCredential.objects.get(user=user)
    assert row.credential_id == b64url(authenticator.credential_id)
    assert row.name == "办公电脑"
    assert row.user_verified and row.transports == ["internal", "hybrid"]
    assert events("identity.mfa_added").filter(detail__factor="passkey").exists()
    shown = public_client.get(reverse("identity:recovery_codes_new"))
    assert shown.status_code == 200 and shown.content.decode().count("<code>") == 10


def test_existing_credentials_are_excluded(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    user, authenticator = enrolled
    sign_in_client(public_client, user, amr=["pwd"])
    options = post_json(public_client, "identity:passkey_register_options", {}).json()["publicKey"]
    assert [c["id"] for c in options["excludeCredentials"]] == [b64url(authenticator.credential_id)]
    with pytest.raises(RuntimeError, match="InvalidStateError"):
        authenticator.create(options)


def test_a_registration_answer_works_once(public_client) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    sign_in_client(public_client, user, amr=["pwd"])
    options = post_json(public_client, "identity:passkey_register_options", {}).json()
    credential = SoftAuthenticator().create(options["publicKey"])
    first = post_json(public_client, "identity:passkey_register", {"credential": credential})
    again = post_json(public_client, "identity:passkey_register", {"credential": credential})
    assert first.status_code == 200
    assert again.status_code == 400 and "失效" in again.json()["error"]
    assert WebAuthnCredential.objects.filter(user=user).count() == 1


def test_a_registration_from_another_origin_is_refused(public_client) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    sign_in_client(public_client, user, amr=["pwd"])
    response = register(public_client, SoftAuthenticator(origin="https://phishing.example"))
    assert response.status_code == 400
    assert not WebAuthnCredential.objects.exists()
    assert events("identity.passkey_register_failed").exists()


def test_an_expired_challenge_is_refused(public_client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    sign_in_client(public_client, user, amr=["pwd"])
    options = post_json(public_client, "identity:passkey_register_options", {}).json()
    credential = SoftAuthenticator().create(options["publicKey"])
    later = passkeys._now() + passkeys.CHALLENGE_TTL_SECONDS + 1
    monkeypatch.setattr(passkeys, "_now", lambda: later)
    response = post_json(public_client, "identity:passkey_register", {"credential": credential})
    assert response.status_code == 400 and "超时" in response.json()["error"]


@pytest.mark.parametrize("garbage", [None, "not json", {"id": "x"}, [1, 2]])
def test_garbage_is_refused_without_a_500(public_client, garbage) -> None:  # type: ignore[no-untyped-def]
    sign_in_client(public_client, make_user(), amr=["pwd"])
    post_json(public_client, "identity:passkey_register_options", {})
    response = post_json(public_client, "identity:passkey_register", {"credential": garbage})
    assert response.status_code == 400
    bad_body = public_client.post(reverse("identity:passkey_verify"), data=b"\xff\xfe",
                                  content_type="application/json")
    assert bad_body.status_code == 400


def test_registration_needs_a_recent_sign_in(public_client) -> None:  # type: ignore[no-untyped-def]
    session = sign_in_client(public_client, make_user(), amr=["pwd"])
    AccountSession.objects.filter(pk=session.pk).update(
        auth_time=timezone.now() - timedelta(minutes=20))
    response = post_json(public_client, "identity:passkey_register_options", {})
    assert response.status_code == 403
    assert response.json()["redirect"].startswith(reverse("identity:reauth"))


def test_registration_needs_a_signed_in_person(public_client) -> None:  # type: ignore[no-untyped-def]
    response = post_json(public_client, "identity:passkey_register_options", {})
    assert response.status_code == 401


# --- passwordless sign-in ------------------------------------------------------------------


def test_passwordless_sign_in_with_user_verification_reaches_l3(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    user, authenticator = enrolled
    options = post_json(public_client, "identity:passkey_options", {"mode": "login"}).json()
    assert options["publicKey"]["allowCredentials"] == []
    assert options["publicKey"]["userVerification"] == "preferred"
    credential = authenticator.get(options["publicKey"])
    response = post_json(public_client, "identity:passkey_verify", {"credential": credential})
    assert response.status_code == 200, response.content
    assert "redirect" in response.json()
    session = AccountSession.objects.get(sid=signed_in_sid(public_client))
    assert session.user == user
    assert {"hwk", "user"} <= set(session.amr)
    assert session.acr == Level.L3
    row = WebAuthnCredential.objects.get(user=user)
    assert row.sign_count == 1 and row.last_used_at is not None


def test_without_user_verification_the_amr_is_hwk_only(public_client) -> None:  # type: ignore[no-untyped-def]
    user = make_user(verified=True)
    authenticator = SoftAuthenticator(user_verification=False)
    sign_in_client(public_client, user, amr=["pwd"])
    assert register(public_client, authenticator).status_code == 200
    public_client.logout()
    response = login_with(public_client, authenticator)
    assert response.status_code == 200, response.content
    session = AccountSession.objects.get(sid=signed_in_sid(public_client))
    assert session.amr == ["hwk"]
    assert session.acr == Level.L2


def test_the_next_url_is_kept_but_only_when_local(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    _user, authenticator = enrolled
    local = login_with(public_client, authenticator, next_url="/account/security/")
    assert local.json()["redirect"] == "/account/security/"
    public_client.logout()
    evil = login_with(public_client, authenticator, next_url="https://evil.example/")
    assert "evil.example" not in evil.json()["redirect"]


def test_a_missing_user_handle_is_refused_for_passwordless(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    _user, authenticator = enrolled
    response = login_with(public_client, authenticator, user_handle=None)
    assert response.status_code == 400
    assert signed_in_sid(public_client) is None


def test_a_wrong_user_handle_is_refused(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    _user, authenticator = enrolled
    response = login_with(public_client, authenticator, user_handle=b"someone else")
    assert response.status_code == 400
    assert events("identity.passkey_failed").filter(detail__reason="user_handle_mismatch").exists()


def test_an_unknown_credential_is_refused(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    stranger = SoftAuthenticator()
    stranger.user_handle = b"x" * 32
    response = login_with(public_client, stranger)
    assert response.status_code == 400
    assert signed_in_sid(public_client) is None


def test_an_assertion_cannot_be_replayed(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    _user, authenticator = enrolled
    options = post_json(public_client, "identity:passkey_options", {"mode": "login"}).json()
    credential = authenticator.get(options["publicKey"])
    assert post_json(public_client, "identity:passkey_verify",
                     {"credential": credential}).status_code == 200
    public_client.logout()
    again = post_json(public_client, "identity:passkey_verify", {"credential": credential})
    assert again.status_code == 400
    assert signed_in_sid(public_client) is None


def test_an_assertion_for_another_challenge_is_refused(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    _user, authenticator = enrolled
    post_json(public_client, "identity:passkey_options", {"mode": "login"})
    forged = authenticator.get({"rpId": passkeys.rp_id(), "challenge": b64url(os.urandom(32))})
    response = post_json(public_client, "identity:passkey_verify", {"credential": forged})
    assert response.status_code == 400
    assert events("identity.passkey_failed").filter(detail__reason="invalid_assertion").exists()


def test_a_counter_that_goes_back_means_a_clone_and_is_refused(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    user, authenticator = enrolled
    assert login_with(public_client, authenticator, counter_step=10).status_code == 200
    public_client.logout()
    authenticator.counter = 4  # a copy of the key that was not used meanwhile
    response = login_with(public_client, authenticator)
    assert response.status_code == 400
    assert "复制" in response.json()["error"]
    assert signed_in_sid(public_client) is None
    assert WebAuthnCredential.objects.get(user=user).sign_count == 10
    warning = events("identity.passkey_clone_warning").get()
    assert warning.detail["stored_count"] == 10 and warning.detail["new_count"] == 5


def test_an_unchanged_counter_is_refused_too(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    _user, authenticator = enrolled
    assert login_with(public_client, authenticator).status_code == 200
    public_client.logout()
    assert login_with(public_client, authenticator, counter_step=0).status_code == 400


def test_authenticators_without_a_counter_keep_working(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    _user, authenticator = enrolled
    for _ in range(2):
        assert login_with(public_client, authenticator, counter_step=0).status_code == 200
        public_client.logout()


def test_a_deactivated_account_cannot_sign_in(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    user, authenticator = enrolled
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert login_with(public_client, authenticator).status_code == 400
    assert signed_in_sid(public_client) is None


# --- second factor and step-up -------------------------------------------------------------


def pending_sign_in(client: Any, user: User) -> None:
    session = client.session
    session[pipeline.PENDING_KEY] = asdict(pipeline.Pending(
        kind=pipeline.SIGN_IN, user_id=user.pk, amr=["pwd"], method="password",
        next_url="/account/security/"))
    session.save()


def test_as_a_second_factor_only_the_pending_persons_keys_are_allowed(public_client,
                                                                      enrolled) -> None:  # type: ignore[no-untyped-def]
    user, authenticator = enrolled
    pending_sign_in(public_client, user)
    options = post_json(public_client, "identity:passkey_options",
                        {"mode": "second_factor"}).json()["publicKey"]
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(authenticator.credential_id)]
    credential = authenticator.get(options)
    response = post_json(public_client, "identity:passkey_verify", {"credential": credential})
    assert response.status_code == 200, response.content
    assert response.json()["redirect"] == "/account/security/"
    session = AccountSession.objects.get(sid=signed_in_sid(public_client))
    assert session.user == user and {"pwd", "hwk"} <= set(session.amr)


def test_another_persons_passkey_is_no_second_factor(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    _owner, authenticator = enrolled
    victim = make_user("lisi")
    WebAuthnCredential.objects.create(user=victim, name="k", credential_id=b64url(os.urandom(16)),
                                      public_key=b64url(b"x"))
    pending_sign_in(public_client, victim)
    options = post_json(public_client, "identity:passkey_options",
                        {"mode": "second_factor"}).json()["publicKey"]
    options["allowCredentials"] = []  # a hostile browser ignores the list
    response = post_json(public_client, "identity:passkey_verify",
                         {"credential": authenticator.get(options)})
    assert response.status_code == 400
    assert signed_in_sid(public_client) is None
    assert events("identity.passkey_failed").filter(detail__reason="foreign_credential").exists()


def test_second_factor_without_a_pending_sign_in_is_refused(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    response = post_json(public_client, "identity:passkey_options", {"mode": "second_factor"})
    assert response.status_code == 400


def test_step_up_with_a_passkey_refreshes_the_session(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    user, authenticator = enrolled
    session = sign_in_client(public_client, user, amr=["pwd"])
    old = timezone.now() - timedelta(hours=1)
    AccountSession.objects.filter(pk=session.pk).update(auth_time=old)
    response = login_with(public_client, authenticator, mode="step_up",
                          next_url="/account/security/")
    assert response.status_code == 200, response.content
    assert response.json()["redirect"] == "/account/security/"
    session.refresh_from_db()
    assert session.auth_time > old and session.acr == Level.L3


def test_unknown_modes_are_refused(public_client) -> None:  # type: ignore[no-untyped-def]
    assert post_json(public_client, "identity:passkey_options",
                     {"mode": "admin"}).status_code == 400
    assert post_json(public_client, "identity:passkey_verify", {}).status_code == 400


# --- management ----------------------------------------------------------------------------


def test_rename_and_remove_ones_own_passkey(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    user, _authenticator = enrolled
    row = WebAuthnCredential.objects.get(user=user)
    sign_in_client(public_client, user)
    page = public_client.get(reverse("identity:security")).content.decode()
    assert "我的手机" in page
    public_client.post(reverse("identity:passkey_rename", args=[row.pk]), {"name": "新名字"})
    assert WebAuthnCredential.objects.get(pk=row.pk).name == "新名字"
    response = public_client.post(reverse("identity:passkey_remove", args=[row.pk]))
    assert response.status_code == 302
    assert not WebAuthnCredential.objects.filter(pk=row.pk).exists()
    assert events("identity.mfa_removed").filter(detail__factor="passkey").exists()


def test_another_persons_passkey_is_a_404(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    user, _authenticator = enrolled
    row = WebAuthnCredential.objects.get(user=user)
    sign_in_client(public_client, make_user("lisi"))
    assert public_client.post(reverse("identity:passkey_remove", args=[row.pk])).status_code == 404
    assert public_client.post(reverse("identity:passkey_rename", args=[row.pk]),
                              {"name": "x"}).status_code == 404
    assert WebAuthnCredential.objects.get(pk=row.pk).name == "我的手机"


def test_removing_a_passkey_needs_a_recent_sign_in(public_client, enrolled) -> None:  # type: ignore[no-untyped-def]
    user, _authenticator = enrolled
    row = WebAuthnCredential.objects.get(user=user)
    session = sign_in_client(public_client, user)
    AccountSession.objects.filter(pk=session.pk).update(
        auth_time=timezone.now() - timedelta(minutes=11))
    response = public_client.post(reverse("identity:passkey_remove", args=[row.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:reauth"))
    assert WebAuthnCredential.objects.filter(pk=row.pk).exists()


def test_the_add_page_loads_our_script_only(public_client) -> None:  # type: ignore[no-untyped-def]
    sign_in_client(public_client, make_user(), amr=["pwd"])
    body = public_client.get(reverse("identity:passkey_add")).content.decode()
    assert 'src="/static/identity/webauthn.js"' in body
    assert "<script>" not in body  # no inline script (CSP)
