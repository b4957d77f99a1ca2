import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from yiwang.core.audit.service import AuditEvent
from yiwang.core.crypto import service
from yiwang.core.crypto.fields import EncryptedTextField
from yiwang.core.crypto.models import EncryptionProbe
from yiwang.core.crypto.service import DecryptionError

from .conftest import K1, K2, K3

pytestmark = pytest.mark.django_db


def raw(probe: EncryptionProbe, column: str = "secret") -> str | None:
    with connection.cursor() as cursor:
        # The column name is one of the test's own constants.
        cursor.execute(f"SELECT {column} FROM crypto_encryptionprobe WHERE id = %s",  # noqa: S608
                       [probe.pk])
        return cursor.fetchone()[0]


def set_raw(probe: EncryptionProbe, value: str, column: str = "secret") -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE crypto_encryptionprobe SET {column} = %s WHERE id = %s",  # noqa: S608
                       [value, probe.pk])


def test_values_are_encrypted_at_rest_and_plain_in_python():
    probe = EncryptionProbe.objects.create(secret="110101199003074258")
    stored = raw(probe)
    assert stored.startswith("v1$k1$aes-256-gcm$")
    assert "110101199003074258" not in stored
    assert EncryptionProbe.objects.get(pk=probe.pk).secret == "110101199003074258"
    assert raw(probe, "note") is None
    assert EncryptionProbe.objects.get(pk=probe.pk).note is None


def test_default_purpose_names_app_model_and_field():
    field = EncryptionProbe._meta.get_field("secret")
    assert isinstance(field, EncryptedTextField)
    assert field.purpose == "crypto.encryptionprobe.secret"
    probe = EncryptionProbe.objects.create(secret="张三")
    assert service.decrypt_personal(raw(probe), "crypto.encryptionprobe.secret") == "张三"


def test_explicit_purpose_is_kept_in_migrations():
    field = EncryptionProbe._meta.get_field("note")
    assert field.deconstruct()[3]["purpose"] == "crypto.probe.note"
    assert "purpose" not in EncryptionProbe._meta.get_field("secret").deconstruct()[3]


def test_a_token_copied_to_another_column_does_not_decrypt():
    probe = EncryptionProbe.objects.create(secret="13812345678")
    set_raw(probe, raw(probe), column="note")
    with pytest.raises(DecryptionError, match=r"crypto\.probe\.note"):
        EncryptionProbe.objects.get(pk=probe.pk)


def test_a_tampered_token_is_a_clear_error():
    probe = EncryptionProbe.objects.create(secret="13812345678")
    token = raw(probe)
    set_raw(probe, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    with pytest.raises(DecryptionError, match="altered"):
        EncryptionProbe.objects.get(pk=probe.pk)


def test_only_isnull_lookups_are_allowed():
    EncryptionProbe.objects.create(secret="a", note="n")
    EncryptionProbe.objects.create(secret="b")
    assert EncryptionProbe.objects.filter(note__isnull=True).count() == 1
    for lookup in ("secret", "secret__contains", "secret__icontains", "secret__in",
                   "secret__lower"):
        with pytest.raises(FieldError, match="blind_index"):
            EncryptionProbe.objects.filter(**{lookup: "a"}).count()


def test_unique_or_indexed_encrypted_fields_fail_the_system_check():
    field = EncryptedTextField(unique=True)
    field.set_attributes_from_name("secret")
    field.model = EncryptionProbe
    assert [e.id for e in field.check()] == ["crypto.E001"]


def test_self_check_round_trips_through_the_database_and_leaves_nothing():
    service.self_check(database=True)
    assert not EncryptionProbe.objects.exists()


def make_probes(n: int) -> list[EncryptionProbe]:
    return [EncryptionProbe.objects.create(secret=f"居民{i}", note=f"备注{i}" if i % 2 else None)
            for i in range(n)]


def test_rotation_re_encrypts_every_value_and_is_idempotent(settings, capsys):
    probes = make_probes(7)
    settings.YIWANG_DATA_KEYS = f"{K2},{K1}"
    call_command("rotate_data_keys", batch_size=3, only=["crypto"])
    out = capsys.readouterr().out
    assert "crypto.encryptionprobe.secret: 7 re-encrypted, 0 failed" in out
    assert "crypto.encryptionprobe.note: 3 re-encrypted, 0 failed" in out
    for i, probe in enumerate(probes):
        assert raw(probe).startswith("v1$k2$")
        assert raw(probe, "note") is None or raw(probe, "note").startswith("v1$k2$")
        reloaded = EncryptionProbe.objects.get(pk=probe.pk)
        assert (reloaded.secret, reloaded.note) == (f"居民{i}", f"备注{i}" if i % 2 else None)
    # The old key can now go.
    settings.YIWANG_DATA_KEYS = K2
    assert [p.secret for p in EncryptionProbe.objects.order_by("pk")] == [
        f"居民{i}" for i in range(7)]
    call_command("rotate_data_keys", only=["crypto"])
    assert "0 values re-encrypted, 0 failed" in capsys.readouterr().out
    assert service.count_pending_rotation(["crypto.encryptionprobe"]) == 0
    assert AuditEvent.objects.filter(action="crypto.rotate_data_keys").count() == 1


def test_rotation_to_another_cipher(settings):
    probe = make_probes(1)[0]
    settings.YIWANG_DATA_CIPHER = "sm4-gcm"
    reports = service.rotate_data_keys(batch_size=10, only=["crypto"])
    assert sum(r.rotated for r in reports) == 1
    assert raw(probe).startswith("v1$k1$sm4-gcm$")
    assert EncryptionProbe.objects.get(pk=probe.pk).secret == "居民0"


def test_dry_run_counts_and_changes_nothing(settings, capsys):
    probe = make_probes(3)[0]
    before = raw(probe)
    settings.YIWANG_DATA_KEYS = f"{K2},{K1}"
    call_command("rotate_data_keys", dry_run=True, only=["crypto"])
    assert "Dry run: 4 values to re-encrypt" in capsys.readouterr().out
    assert raw(probe) == before


def test_undecryptable_values_are_counted_left_alone_and_fail_the_command(settings, capsys):
    good, bad = make_probes(2)
    settings.YIWANG_DATA_KEYS = K3
    bad_token = service.encrypt_personal("孤儿", "crypto.encryptionprobe.secret")
    settings.YIWANG_DATA_KEYS = f"{K2},{K1}"
    set_raw(bad, bad_token)
    with pytest.raises(CommandError, match="1 values could not be decrypted"):
        call_command("rotate_data_keys", batch_size=1, only=["crypto"])
    assert "crypto.encryptionprobe.secret: 1 re-encrypted, 1 failed" in capsys.readouterr().out
    assert raw(good).startswith("v1$k2$")
    assert raw(bad) == bad_token


def test_rotation_finds_every_encrypted_column_of_every_model():
    from yiwang.core.crypto.rotation import encrypted_fields

    found = {f"{model._meta.label_lower}.{field.name}" for model, field in encrypted_fields()}
    assert {"crypto.encryptionprobe.secret", "crypto.encryptionprobe.note"} <= found
    assert all(isinstance(field, EncryptedTextField) for _model, field in encrypted_fields())
    assert {f.name for _m, f in encrypted_fields(["crypto.encryptionprobe"])} == {"secret",
                                                                                    "note"}
