"""Known-answer tests of the algorithm plugins, and the registry."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from yiwang.core.crypto import registry
from yiwang.core.crypto.base import DecryptionError, HashAlgorithm, SignatureAlgorithm


def h(hexstr: str) -> bytes:
    return bytes.fromhex(hexstr)


@pytest.mark.parametrize(("data", "expected"), [
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
])
def test_sm3_examples_of_gb_t_32905(data, expected):
    assert registry.get_hash("sm3").digest(data).hex() == expected


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
])
def test_sha256_examples_of_fips_180(data, expected):
    assert registry.get_hash("sha256").digest(data).hex() == expected


@pytest.mark.parametrize("name", ["sha256", "sm3"])
def test_incremental_hash_equals_one_shot_and_can_continue_after_digest(name):
    algorithm = registry.get_hash(name)
    ctx = algorithm.new()
    ctx.update(b"ab")
    assert ctx.digest() == algorithm.digest(b"ab")
    fork = ctx.copy()
    ctx.update(b"c")
    assert ctx.digest() == algorithm.digest(b"abc")
    assert fork.digest() == algorithm.digest(b"ab")


def test_sm4_block_example_of_gb_t_32907():
    # The cipher plugin only offers GCM; this checks the SM4 block cipher beneath it.
    key = h("0123456789abcdeffedcba9876543210")
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()  # noqa: S305 - test vector
    assert (enc.update(key) + enc.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


def test_aes_256_gcm_known_answers_of_the_gcm_specification():
    cipher = registry.get_cipher("aes-256-gcm")
    # McGrew & Viega test cases 13 and 14: zero key and nonce; empty and zero plaintext.
    assert cipher.decrypt(bytes(32), bytes(12) + h("530f8afbc74536b9a963b4f1c4cb738b")) == b""
    data = bytes(12) + h("cea7403d4d606b6e074ec5d3baf39d18" "d0d1c8a799996bf0265b98b5d48ab919")
    assert cipher.decrypt(bytes(32), data) == bytes(16)


def test_sm4_gcm_known_answer_of_rfc_8998():
    cipher = registry.get_cipher("sm4-gcm")
    key = h("0123456789ABCDEFFEDCBA9876543210")
    nonce = h("00001234567800000000ABCD")
    aad = h("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = h("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
                  "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA")
    ciphertext = h("17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
                   "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D")
    tag = h("83DE3541E4C2B58177E065A9BF7B62EC")
    assert cipher.decrypt(key, nonce + ciphertext + tag, aad) == plaintext


@pytest.mark.parametrize("name", ["aes-256-gcm", "sm4-gcm"])
def test_ciphers_round_trip_and_detect_tampering(name):
    cipher = registry.get_cipher(name)
    key = bytes(range(cipher.key_size))
    sealed = cipher.encrypt(key, "居民信息".encode(), b"purpose")
    assert len(sealed) == cipher.nonce_size + len("居民信息".encode()) + cipher.tag_size
    assert cipher.decrypt(key, sealed, b"purpose") == "居民信息".encode()
    assert cipher.encrypt(key, b"x", b"") != cipher.encrypt(key, b"x", b"")  # fresh nonces
    for position in range(len(sealed)):
        flipped = bytearray(sealed)
        flipped[position] ^= 0x01
        with pytest.raises(DecryptionError):
            cipher.decrypt(key, bytes(flipped), b"purpose")
    with pytest.raises(DecryptionError):
        cipher.decrypt(key, sealed, b"other purpose")
    with pytest.raises(DecryptionError):
        cipher.decrypt(key, sealed[:10], b"purpose")
    with pytest.raises(ValueError, match="key"):
        cipher.encrypt(key[:-1], b"x")


def test_hkdf_example_of_rfc_5869():
    okm = registry.get_hash("sha256").hkdf(
        b"\x0b" * 22, salt=bytes(range(13)), info=bytes(range(0xF0, 0xFA)), length=42
    )
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c"
                         "5db02d56ecc4c5bf34007208d5b887185865")


@pytest.mark.parametrize("name", ["sha256", "sm3"])
def test_generic_hkdf_of_the_interface_agrees_with_the_library(name):
    algorithm = registry.get_hash(name)
    args = {"salt": b"salt", "info": b"info", "length": 80}
    assert HashAlgorithm.hkdf(algorithm, b"key material", **args) == algorithm.hkdf(
        b"key material", **args)


def test_unknown_names_are_refused_with_the_known_ones():
    with pytest.raises(registry.UnknownAlgorithm, match="sm3"):
        registry.get_hash("md5")
    with pytest.raises(LookupError):
        registry.get_cipher("des")


def test_registering_twice_needs_replace():
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.get_hash("sm3"))
    with pytest.raises(TypeError):
        registry.register(object())  # type: ignore[arg-type]


class Ed25519(SignatureAlgorithm):
    """What a trust-core plugin will look like; written here only to exercise the registry."""

    name = "ed25519-test"

    def generate_key(self) -> bytes:
        return ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())

    def _private(self, key: bytes) -> ed25519.Ed25519PrivateKey:
        loaded = serialization.load_der_private_key(key, None)
        assert isinstance(loaded, ed25519.Ed25519PrivateKey)
        return loaded

    def public_key(self, private_key: bytes) -> bytes:
        return self._private(private_key).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, private_key: bytes, data: bytes) -> bytes:
        return self._private(private_key).sign(data)

    def verify(self, public_key: bytes, data: bytes, signature: bytes) -> bool:
        loaded = serialization.load_der_public_key(public_key)
        assert isinstance(loaded, ed25519.Ed25519PublicKey)
        try:
            loaded.verify(signature, data)
        except Exception:
            return False
        return True


def test_registry_accepts_signature_algorithms():
    plugin = Ed25519()
    registry.register(plugin)
    try:
        signer = registry.get_signature("ed25519-test")
        private = signer.generate_key()
        public = signer.public_key(private)
        signature = signer.sign(private, b"licence 42")
        assert signer.verify(public, b"licence 42", signature)
        assert not signer.verify(public, b"licence 43", signature)
        pem = serialization.load_pem_public_key(signer.export_public_key(public).encode())
        assert pem.public_bytes(serialization.Encoding.DER,
                                serialization.PublicFormat.SubjectPublicKeyInfo) == public
        assert "ed25519-test" in registry.names()["signature"]
    finally:
        registry.unregister(plugin)
    with pytest.raises(registry.UnknownAlgorithm):
        registry.get_signature("ed25519-test")
