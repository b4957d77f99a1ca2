import base64

import pytest

from yiwang.conf.env import ConfigError
from yiwang.core.crypto import service
from yiwang.core.crypto.service import (
    DecryptionError,
    blind_index,
    decrypt_personal,
    encrypt_personal,
)

from .conftest import K1, K2, K3, key_entry

PURPOSE = "registry.person.phone"


def test_round_trip_and_self_describing_token():
    token = encrypt_personal("13812345678", PURPOSE)
    version, key_id, cipher, _body = token.split("$")
    assert (version, key_id, cipher) == ("v1", "k1", "aes-256-gcm")
    assert "13812345678" not in token
    assert decrypt_personal(token, PURPOSE) == "13812345678"
    assert service.token_key_id(token) == "k1"


def test_same_value_encrypts_differently_each_time():
    assert encrypt_personal("张三", PURPOSE) != encrypt_personal("张三", PURPOSE)


def test_empty_and_unicode_values_round_trip():
    for value in ["", "北京市朝阳区建国路88号", "emoji 🧧", "$v1$"]:
        assert decrypt_personal(encrypt_personal(value, PURPOSE), PURPOSE) == value


def test_a_token_does_not_decrypt_for_another_purpose():
    token = encrypt_personal("13812345678", PURPOSE)
    with pytest.raises(DecryptionError, match="another purpose"):
        decrypt_personal(token, "registry.person.address")


@pytest.mark.parametrize("cipher", ["aes-256-gcm", "sm4-gcm"])
def test_tampered_tokens_are_refused(settings, cipher):
    settings.YIWANG_DATA_CIPHER = cipher
    token = encrypt_personal("13812345678", PURPOSE)
    prefix, body = token.rsplit("$", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[-1] ^= 1
    tampered = prefix + "$" + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(DecryptionError, match="altered"):
        decrypt_personal(tampered, PURPOSE)
    other = "sm4-gcm" if cipher == "aes-256-gcm" else "aes-256-gcm"
    with pytest.raises(DecryptionError):
        decrypt_personal(token.replace(f"${cipher}$", f"${other}$"), PURPOSE)


@pytest.mark.parametrize("token", ["", "13812345678", "v2$k1$aes-256-gcm$AAAA",
                                   "v1$k1$aes-256-gcm", "v1$k1$rot13$AAAA",
                                   "v1$k1$aes-256-gcm$!!!"])
def test_malformed_tokens_raise_decryption_error(token):
    with pytest.raises(DecryptionError):
        decrypt_personal(token, PURPOSE)


def test_sm4_is_selected_by_setting_and_old_aes_tokens_still_decrypt(settings):
    aes_token = encrypt_personal("张三", PURPOSE)
    settings.YIWANG_DATA_CIPHER = "sm4-gcm"
    sm4_token = encrypt_personal("张三", PURPOSE)
    assert sm4_token.split("$")[2] == "sm4-gcm"
    assert decrypt_personal(sm4_token, PURPOSE) == "张三"
    assert decrypt_personal(aes_token, PURPOSE) == "张三"
    assert service.needs_rotation(aes_token) and not service.needs_rotation(sm4_token)


def test_first_key_encrypts_and_all_decrypt(settings):
    old = encrypt_personal("张三", PURPOSE)
    settings.YIWANG_DATA_KEYS = f"{K2},{K1}"
    new = encrypt_personal("张三", PURPOSE)
    assert service.current_key_id() == "k2"
    assert service.token_key_id(new) == "k2"
    assert decrypt_personal(old, PURPOSE) == decrypt_personal(new, PURPOSE) == "张三"
    assert service.needs_rotation(old) and not service.needs_rotation(new)
    settings.YIWANG_DATA_KEYS = K2
    with pytest.raises(DecryptionError, match="YIWANG_DATA_KEYS"):
        decrypt_personal(old, PURPOSE)


def test_keys_with_the_same_id_but_other_material_do_not_decrypt(settings):
    token = encrypt_personal("张三", PURPOSE)
    settings.YIWANG_DATA_KEYS = "k1:" + K2.split(":", 1)[1]
    with pytest.raises(DecryptionError):
        decrypt_personal(token, PURPOSE)


@pytest.mark.parametrize(("raw", "problem"), [
    ("", "no data key"),
    ("k1", "expected `id:base64"),
    ("k 1:" + K1.split(":")[1], "expected `id:base64"),
    ("k1:not base64!", "not valid base64"),
    ("k1:" + base64.b64encode(bytes(16)).decode(), "32 bytes, got 16"),
    (f"{K1},{K1}", "used twice"),
])
def test_malformed_keys_raise_config_error_naming_the_setting(settings, raw, problem):
    settings.YIWANG_DATA_KEYS = raw
    with pytest.raises(ConfigError, match=problem) as info:
        encrypt_personal("x", PURPOSE)
    assert info.value.variable == "YIWANG_DATA_KEYS"
    assert K1.split(":")[1] not in str(info.value)


def test_unknown_cipher_setting_is_a_config_error(settings):
    settings.YIWANG_DATA_CIPHER = "des"
    with pytest.raises(ConfigError) as info:
        encrypt_personal("x", PURPOSE)
    assert info.value.variable == "YIWANG_DATA_CIPHER"


def test_blind_index_normalises_and_separates_purposes():
    value = "11010119900307001X"
    index = blind_index(value, "registry.person.id_number")
    assert len(index) == 64 and int(index, 16) >= 0
    assert blind_index(" 11010119900307001x ", "registry.person.id_number") == index
    assert blind_index("１１０１０１１９９００３０７００１Ｘ", "registry.person.id_number") == index
    assert blind_index(value, "registry.person.phone") != index
    assert blind_index("11010119900307002X", "registry.person.id_number") != index


def test_blind_index_survives_key_rotation_by_prepending(settings):
    settings.YIWANG_DATA_KEYS = f"{K2},{K1}"
    before = blind_index("13812345678", PURPOSE)
    settings.YIWANG_DATA_KEYS = f"{K3},{K2},{K1}"
    assert blind_index("13812345678", PURPOSE) == before
    settings.YIWANG_DATA_KEYS = f"{K3},{K2}"  # retiring the oldest key changes the index
    assert blind_index("13812345678", PURPOSE) != before


def test_dedicated_index_key_takes_precedence_and_is_validated(settings):
    without = blind_index("13812345678", PURPOSE)
    settings.YIWANG_INDEX_KEY = key_entry("x", 7).split(":")[1]
    with_key = blind_index("13812345678", PURPOSE)
    assert with_key != without
    settings.YIWANG_DATA_KEYS = f"{K2},{K3}"
    assert blind_index("13812345678", PURPOSE) == with_key
    settings.YIWANG_INDEX_KEY = "short"
    with pytest.raises(ConfigError) as info:
        blind_index("13812345678", PURPOSE)
    assert info.value.variable == "YIWANG_INDEX_KEY"


def test_digest_and_hmac():
    assert service.digest("abc", "sm3").hex().startswith("66c7f0f4")
    assert service.digest(b"abc") == service.digest("abc", "sha256")
    mac = service.hmac(b"key", "message", "sm3")
    assert service.verify_hmac(b"key", "message", mac, "sm3")
    assert not service.verify_hmac(b"key", "messagE", mac, "sm3")
    assert not service.verify_hmac(b"key", "message", mac)  # other algorithm


def test_purpose_is_required():
    with pytest.raises(ValueError, match="purpose"):
        encrypt_personal("x", "")
    with pytest.raises(TypeError):
        encrypt_personal(12345, PURPOSE)  # type: ignore[arg-type]
