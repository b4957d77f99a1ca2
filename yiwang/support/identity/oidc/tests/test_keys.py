"""Signing keys: creation, rotation, publication, the per-process cache and the command."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from jwcrypto import jwk, jws

from yiwang.core.audit.service import AuditEvent
from yiwang.core.tasks.service import enqueue
from yiwang.support.identity.oidc import keys, tasks
from yiwang.support.identity.oidc.models import KeyState, SigningKey

pytestmark = pytest.mark.django_db


def _age_next_key(hours: int = 2) -> None:
    SigningKey.objects.filter(state=KeyState.NEXT).update(
        created_at=timezone.now() - timedelta(hours=hours))


def test_first_use_creates_an_active_and_a_next_key():
    assert SigningKey.objects.count() == 0
    key = keys.active_key()
    states = dict(SigningKey.objects.values_list("state", "kid"))
    assert states[KeyState.ACTIVE] == key.kid
    assert KeyState.NEXT in states and states[KeyState.NEXT] != key.kid
    assert keys.active_key().kid == key.kid  # no second key on the next call


def test_private_keys_are_encrypted_at_rest():
    keys.ensure_keys()
    with connection.cursor() as cursor:
        cursor.execute("SELECT private_pem FROM oidc_signingkey")
        raw = [row[0] for row in cursor.fetchall()]
    assert raw and all("PRIVATE KEY" not in value for value in raw)
    assert "PRIVATE KEY" in SigningKey.objects.first().private_pem


def test_jwks_publishes_next_and_active_public_keys_only():
    active = keys.active_key()
    published = keys.jwks()["keys"]
    assert published[0]["kid"] == active.kid
    assert len(published) == 2
    for key in published:
        assert key["kty"] == "RSA" and key["use"] == "sig" and key["alg"] == "RS256"
        assert "d" not in key and "p" not in key  # never the private parts
        assert jwk.JWK(**key).thumbprint() == key["kid"]


def test_tokens_carry_the_kid_of_the_active_key_and_verify_against_the_jwks():
    token = keys.sign({"iss": "x", "sub": "1", "exp": int(time.time()) + 60})
    parsed = jws.JWS()
    parsed.deserialize(token)
    header = parsed.jose_header
    assert header["kid"] == keys.active_key().kid
    assert header["alg"] == "RS256"
    keyset = jwk.JWKSet.from_json(json.dumps(keys.jwks()))
    parsed.verify(keyset.get_key(header["kid"]))
    assert json.loads(parsed.payload)["sub"] == "1"


def test_rotation_promotes_the_next_key_and_keeps_the_old_one_published():
    old = keys.active_key().kid
    waiting = SigningKey.objects.get(state=KeyState.NEXT).kid
    _age_next_key()
    promoted = keys.rotate_signing_keys(actor=None)
    keys.clear_cache()
    assert promoted.kid == waiting
    assert keys.active_key().kid == waiting
    assert SigningKey.objects.get(kid=old).state == KeyState.RETIRED
    published = [k["kid"] for k in keys.jwks()["keys"]]
    assert published[0] == waiting and old in published and len(published) == 3
    assert AuditEvent.objects.filter(action="oidc.signing_keys_rotated").exists()


def test_rotation_refuses_a_next_key_relying_parties_may_not_know_yet():
    keys.ensure_keys()
    with pytest.raises(ValidationError):
        keys.rotate_signing_keys()
    keys.rotate_signing_keys(force=True)


def test_retired_keys_leave_the_jwks_after_a_day_and_the_database_after_a_month():
    old = keys.active_key().kid
    keys.rotate_signing_keys(force=True)
    SigningKey.objects.filter(kid=old).update(retired_at=timezone.now() - timedelta(days=2))
    assert old not in [k["kid"] for k in keys.jwks()["keys"]]
    assert keys.verify(keys.sign({"iss": "x"})) is not None
    SigningKey.objects.filter(kid=old).update(retired_at=timezone.now() - timedelta(days=31))
    keys.rotate_signing_keys(force=True)
    assert not SigningKey.objects.filter(kid=old).exists()


def test_periodic_rotation_only_when_due(settings):
    keys.ensure_keys()
    assert keys.rotate_if_due() is False
    SigningKey.objects.filter(state=KeyState.ACTIVE).update(
        activated_at=timezone.now() - timedelta(days=settings.YIWANG_OIDC_KEY_ROTATION_DAYS + 1))
    before = keys.active_key().kid
    assert tasks.rotate_signing_keys() is True
    keys.clear_cache()
    assert keys.active_key().kid != before
    enqueue("oidc.rotate_signing_keys")  # registered (an unknown name raises LookupError)


def test_the_active_key_is_cached_and_a_rotation_here_applies_at_once(
        settings, django_capture_on_commit_callbacks):
    settings.YIWANG_OIDC_KEY_CACHE_SECONDS = 30
    first = keys.active_key()
    with CaptureQueriesContext(connection) as queries:
        assert keys.active_key() is first
    assert len(queries) == 0
    _age_next_key()
    with django_capture_on_commit_callbacks(execute=True):
        keys.rotate_signing_keys()
    assert keys.active_key().kid != first.kid


def test_verify_accepts_expired_hints_only_when_asked_and_rejects_forgeries():
    expired = keys.sign({"iss": "x", "exp": int(time.time()) - 3600})
    assert keys.verify(expired) is None
    assert keys.verify(expired, check_expiry=False)["iss"] == "x"
    head, _payload, signature = keys.sign({"iss": "x", "sub": "1"}).split(".")
    forged_payload = jws.base64url_encode(json.dumps({"iss": "x", "sub": "2"}))
    assert keys.verify(f"{head}.{forged_payload}.{signature}") is None
    assert keys.verify("not a token") is None
    other = jwk.JWK.generate(kty="RSA", size=2048, kid="other")
    token = jws.JWS(b'{"iss": "x"}')
    token.add_signature(other, None, json.dumps({"alg": "RS256", "kid": "other"}))
    assert keys.verify(token.serialize(compact=True)) is None


def test_rotate_command(capsys):
    keys.ensure_keys()
    with pytest.raises(CommandError):
        call_command("rotate_oidc_keys")
    call_command("rotate_oidc_keys", "--force")
    out = capsys.readouterr().out
    assert f"Active signing key: {keys.active_key().kid}" in out
    call_command("rotate_oidc_keys", "--if-due")
    assert "Not due" in capsys.readouterr().out


def test_the_jwks_is_cached_and_rebuilt_after_a_rotation_here(
        settings, django_capture_on_commit_callbacks):
    settings.YIWANG_OIDC_KEY_CACHE_SECONDS = 30
    first = keys.jwks()
    with CaptureQueriesContext(connection) as queries:
        assert keys.jwks() == first
    assert len(queries) == 0
    _age_next_key()
    with django_capture_on_commit_callbacks(execute=True):
        keys.rotate_signing_keys()
    assert len(keys.jwks()["keys"]) == 3
