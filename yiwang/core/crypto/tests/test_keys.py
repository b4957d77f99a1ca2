"""Managed signing keys through the service: lifecycle, vault, audit, constraints."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from yiwang.core.audit import service as audit
from yiwang.core.crypto import service, vault
from yiwang.core.crypto.base import DecryptionError
from yiwang.core.crypto.models import ManagedKey
from yiwang.core.crypto.tests.conftest import M1, M2

pytestmark = pytest.mark.django_db
ALGORITHMS = ["ed25519", "ecdsa-p256", "sm2"]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_created_key_signs_and_its_signatures_verify(algorithm):
    key = service.create_signing_key(owner="330100-fgw", purpose="seal", algorithm=algorithm)
    assert key.status == "active" and key.algorithm == algorithm and key.not_after is None
    data = b"licence 42"
    signature = service.sign_with_key(key.id, data)
    assert service.verify_signature(algorithm, key.public_key, data, signature)
    assert not service.verify_signature(algorithm, key.public_key, b"licence 43", signature)
    flipped = bytes([signature[0]]) + bytes([signature[1] ^ 0x01]) + signature[2:]
    assert not service.verify_signature(algorithm, key.public_key, data, flipped)
    assert service.active_signing_key("330100-fgw", "seal") == key
    assert service.get_signing_key(key.id) == key


def test_private_key_is_wrapped_and_bound_to_key_id_and_algorithm():
    key = service.create_signing_key(owner="region", purpose="pki.root", algorithm="sm2")
    row = ManagedKey.objects.get(pk=key.id)
    assert row.vault == "software"
    assert row.vault_handle.startswith("sv1$m1$aes-256-gcm$")
    soft = vault.get_vault("software")
    pkcs8 = soft.unwrap(row.vault_handle, key_id=key.id, algorithm="sm2")
    assert pkcs8.startswith(b"\x30") and key.public_key not in row.vault_handle.encode()
    with pytest.raises(DecryptionError):
        soft.unwrap(row.vault_handle, key_id="someotherkey", algorithm="sm2")
    with pytest.raises(DecryptionError):
        soft.unwrap(row.vault_handle, key_id=key.id, algorithm="ecdsa-p256")
    # A wrapped key copied onto another record does not sign for it.
    other = service.create_signing_key(owner="region", purpose="pki.tsa", algorithm="sm2")
    ManagedKey.objects.filter(pk=other.id).update(vault_handle=row.vault_handle)
    with pytest.raises(DecryptionError):
        service.sign_with_key(other.id, b"x")


def test_sm4_deployments_wrap_with_sm4_gcm(settings):
    settings.YIWANG_DATA_CIPHER = "sm4-gcm"
    key = service.create_signing_key(owner="region", purpose="trust.list", algorithm="sm2")
    assert ManagedKey.objects.get(pk=key.id).vault_handle.startswith("sv1$m1$sm4-gcm$")
    signature = service.sign_with_key(key.id, b"x")
    assert service.verify_signature("sm2", key.public_key, b"x", signature)


def test_wrong_master_key_does_not_unwrap(settings):
    key = service.create_signing_key(owner="region", purpose="pki.root", algorithm="ed25519")
    settings.YIWANG_KEY_MASTER = M1.split(":")[0] + ":" + M2.split(":")[1]  # same id, new bytes
    with pytest.raises(DecryptionError):
        service.sign_with_key(key.id, b"x")
    settings.YIWANG_KEY_MASTER = M2
    with pytest.raises(DecryptionError, match="m1"):
        service.sign_with_key(key.id, b"x")


def test_master_key_rotation_rewraps_and_old_master_can_then_go(settings):
    keys = [service.create_signing_key(owner=f"d{i}", purpose="seal", algorithm=a)
            for i, a in enumerate(ALGORITHMS)]
    settings.YIWANG_KEY_MASTER = f"{M2},{M1}"
    assert service.sign_with_key(keys[0].id, b"x")  # old wrapping still opens
    assert service.rewrap_signing_keys() == 3
    assert service.rewrap_signing_keys() == 0  # idempotent
    settings.YIWANG_KEY_MASTER = M2
    for key in keys:
        assert ManagedKey.objects.get(pk=key.id).vault_handle.startswith("sv1$m2$")
        assert service.verify_signature(key.algorithm, key.public_key, b"y",
                                        service.sign_with_key(key.id, b"y"))
    assert audit.search(audit.AuditFilter(action="crypto.key_master_rotated")).count() == 1


def test_rotation_retires_the_old_key_which_verifies_but_no_longer_signs():
    old = service.create_signing_key(owner="ledger:main", purpose="ledger.checkpoint",
                                     algorithm="ed25519", valid_days=30)
    old_signature = service.sign_with_key(old.id, b"checkpoint 1")
    new = service.rotate_signing_key("ledger:main", "ledger.checkpoint")
    assert new.id != old.id and new.algorithm == "ed25519"
    assert new.not_after is not None
    assert abs((new.not_after - new.created_at) - dt.timedelta(days=30)) < dt.timedelta(minutes=1)
    retired = service.get_signing_key(old.id)
    assert retired.status == "retired" and retired.retired_at is not None
    with pytest.raises(service.KeyNotUsable, match="retired"):
        service.sign_with_key(old.id, b"checkpoint 2")
    assert service.verify_signature("ed25519", retired.public_key, b"checkpoint 1", old_signature)
    assert service.active_signing_key("ledger:main", "ledger.checkpoint").id == new.id
    assert [k.id for k in service.list_signing_keys(owner="ledger:main")] == [new.id, old.id]


def test_rotation_may_change_algorithm_and_needs_one_without_an_active_key():
    service.create_signing_key(owner="330100", purpose="licence.vc", algorithm="ed25519")
    assert service.rotate_signing_key("330100", "licence.vc", algorithm="sm2").algorithm == "sm2"
    with pytest.raises(ValidationError, match="指定算法"):
        service.rotate_signing_key("330100", "seal")


def test_creating_again_retires_the_previous_key():
    first = service.create_signing_key(owner="330100", purpose="seal", algorithm="ecdsa-p256")
    second = service.create_signing_key(owner="330100", purpose="seal", algorithm="ecdsa-p256")
    assert service.get_signing_key(first.id).status == "retired"
    assert service.active_signing_key("330100", "seal").id == second.id
    assert ManagedKey.objects.filter(owner="330100", purpose="seal", status="active").count() == 1


def test_revoked_key_refuses_to_sign_still_verifies_and_loses_its_private_half():
    key = service.create_signing_key(owner="330100", purpose="seal", algorithm="sm2")
    signature = service.sign_with_key(key.id, b"doc")
    revoked = service.revoke_signing_key(key.id, reason="私钥泄露")
    assert revoked.status == "revoked" and revoked.revocation_reason == "私钥泄露"
    assert ManagedKey.objects.get(pk=key.id).vault_handle == ""
    with pytest.raises(service.KeyNotUsable, match="revoked"):
        service.sign_with_key(key.id, b"doc")
    assert service.verify_signature("sm2", revoked.public_key, b"doc", signature)
    assert service.active_signing_key("330100", "seal") is None
    with pytest.raises(ValidationError, match="已于"):
        service.revoke_signing_key(key.id, reason="again")
    # A retired key can be revoked too.
    old = service.create_signing_key(owner="330100", purpose="seal", algorithm="sm2")
    service.rotate_signing_key("330100", "seal")
    assert service.revoke_signing_key(old.id, reason="停用").status == "revoked"


def test_expired_key_refuses_to_sign():
    key = service.create_signing_key(owner="330100", purpose="seal", algorithm="ed25519",
                                     valid_days=1)
    ManagedKey.objects.filter(pk=key.id).update(
        not_after=key.created_at - dt.timedelta(seconds=1))
    with pytest.raises(service.KeyNotUsable, match="expired"):
        service.sign_with_key(key.id, b"x")
    assert not service.get_signing_key(key.id).can_sign()


def test_unknown_key_refuses_to_sign():
    with pytest.raises(service.KeyNotUsable):
        service.sign_with_key("nosuchkey", b"x")
    assert service.get_signing_key("nosuchkey") is None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"owner": "", "purpose": "seal", "algorithm": "sm2"}, "持有者"),
    ({"owner": "a b", "purpose": "seal", "algorithm": "sm2"}, "持有者"),
    ({"owner": "x", "purpose": "用途", "algorithm": "sm2"}, "用途"),
    ({"owner": "x", "purpose": "seal", "algorithm": "rsa"}, "不支持的签名算法"),
    ({"owner": "x", "purpose": "seal", "algorithm": "sha256"}, "不支持的签名算法"),
    ({"owner": "x", "purpose": "seal", "algorithm": "sm2", "valid_days": 0}, "有效天数"),
    ({"owner": "x", "purpose": "seal", "algorithm": "sm2", "valid_days": "9"}, "有效天数"),
])
def test_bad_input_is_refused_with_a_message(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        service.create_signing_key(**kwargs)
    assert not ManagedKey.objects.exists()


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 501])
def test_revocation_needs_a_reason(reason):
    key = service.create_signing_key(owner="x", purpose="seal", algorithm="ed25519")
    with pytest.raises(ValidationError):
        service.revoke_signing_key(key.id, reason=reason)
    assert service.get_signing_key(key.id).status == "active"


def test_lifecycle_is_audited_without_key_material(django_user_model):
    admin = django_user_model.objects.create_user(username="keyadmin", password="x" * 12)
    key = service.create_signing_key(owner="330100", purpose="seal", algorithm="sm2",
                                     actor=admin)
    new = service.rotate_signing_key("330100", "seal", actor=admin)
    service.revoke_signing_key(new.id, reason="测试", actor=admin)
    events = list(audit.search(audit.AuditFilter(action="crypto.key_")).order_by("id"))
    assert [e.action for e in events] == ["crypto.key_created", "crypto.key_rotated",
                                          "crypto.key_revoked"]
    assert events[0].object_id == key.id and events[0].detail["fingerprint"] == key.fingerprint
    assert events[1].detail["retired"] == [key.id]
    handles = [ManagedKey.objects.get(pk=key.id).vault_handle]
    for event in events:
        text = repr(event.detail)
        assert "sv1$" not in text and all(h.split("$")[-1] not in text for h in handles)
        assert event.actor_id == str(admin.pk)


def test_database_allows_one_active_key_per_owner_and_purpose():
    key = service.create_signing_key(owner="330100", purpose="seal", algorithm="ed25519")
    row = ManagedKey.objects.get(pk=key.id)
    with pytest.raises(IntegrityError), transaction.atomic():
        ManagedKey.objects.create(id="duplicate", owner="330100", purpose="seal",
                                  algorithm="ed25519", public_key=row.public_key,
                                  vault="software", vault_handle=row.vault_handle)
    # Retired and revoked keys are not limited.
    ManagedKey.objects.create(id="old1", owner="330100", purpose="seal", status="retired",
                              algorithm="ed25519", public_key=row.public_key, vault="software")
    ManagedKey.objects.create(id="old2", owner="330100", purpose="seal", status="retired",
                              algorithm="ed25519", public_key=row.public_key, vault="software")


def test_a_concurrent_create_that_hits_the_constraint_is_a_validation_error(monkeypatch):
    """Simulates the race: another transaction's active key appears between the retire and
    the insert (select_for_update does not lock rows that do not exist yet)."""
    from yiwang.core.crypto import keys

    other = service.create_signing_key(owner="330100", purpose="seal", algorithm="ed25519")
    real_get_vault = keys.get_vault

    def racing_get_vault(name=None):
        # Runs after the previous active key was retired: the racer inserts its own.
        ManagedKey.objects.filter(pk=other.id).update(status="active")
        return real_get_vault(name)

    monkeypatch.setattr(keys, "get_vault", racing_get_vault)
    with pytest.raises(ValidationError, match="重试"):
        service.create_signing_key(owner="330100", purpose="seal", algorithm="ed25519")
    assert ManagedKey.objects.filter(owner="330100", purpose="seal").count() == 1


class RecordingVault(vault.KeyVault):
    """A stand-in for an HSM plugin: keys live in a dict, handles are labels."""

    name = "test-hsm"

    def __init__(self):
        self.keys = {}

    def create_key(self, *, key_id, algorithm):
        from yiwang.core.crypto import registry

        plugin = registry.get_signature(algorithm)
        self.keys[f"label-{key_id}"] = plugin.generate_key()
        return vault.VaultKey(f"label-{key_id}", plugin.public_key(self.keys[f"label-{key_id}"]))

    def sign(self, handle, *, key_id, algorithm, data):
        from yiwang.core.crypto import registry

        return registry.get_signature(algorithm).sign(self.keys[handle], data)

    def destroy_key(self, handle, *, key_id, algorithm):
        del self.keys[handle]


def test_an_hsm_plugin_takes_over_by_setting(settings, django_capture_on_commit_callbacks):
    hsm = RecordingVault()
    vault.register_vault(hsm)
    try:
        settings.YIWANG_KEY_VAULT = "test-hsm"
        key = service.create_signing_key(owner="region", purpose="pki.root", algorithm="ed25519")
        assert ManagedKey.objects.get(pk=key.id).vault_handle == f"label-{key.id}"
        settings.YIWANG_KEY_VAULT = "software"  # existing keys keep their own vault
        assert service.verify_signature("ed25519", key.public_key, b"x",
                                        service.sign_with_key(key.id, b"x"))
        assert service.rewrap_signing_keys() == 0
        with django_capture_on_commit_callbacks(execute=True):
            service.revoke_signing_key(key.id, reason="retire HSM")
            assert hsm.keys != {}  # destroyed only once the revocation is committed
        assert hsm.keys == {}
    finally:
        vault.unregister_vault(hsm)
    settings.YIWANG_KEY_VAULT = "nosuchvault"
    with pytest.raises(Exception, match="YIWANG_KEY_VAULT"):
        service.create_signing_key(owner="x", purpose="seal", algorithm="sm2")


def test_rotate_key_master_command(settings):
    from io import StringIO

    from django.core.management import call_command

    key = service.create_signing_key(owner="region", purpose="pki.root", algorithm="sm2")
    settings.YIWANG_KEY_MASTER = f"{M2},{M1}"
    out = StringIO()
    call_command("rotate_key_master", stdout=out)
    assert "1 signing keys re-wrapped" in out.getvalue()
    settings.YIWANG_KEY_MASTER = M2
    assert service.sign_with_key(key.id, b"x")
