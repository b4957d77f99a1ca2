"""Interoperability with verifiers that are not yiwang: the ``openssl`` command line (3.x),
and the SM2 signature example published in GM/T 0003.5-2012 Annex A (GB/T 32918.5)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from yiwang.core.crypto import registry, service

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")

DISTID = "distid:1234567812345678"
MESSAGE = "不动产权证书 浙(2026)杭州市不动产权第0000001号".encode()


def openssl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], capture_output=True, check=check, timeout=30)


def der_to_pem(tmp: Path, name: str, der: bytes, *, public: bool) -> Path:
    (tmp / f"{name}.der").write_bytes(der)
    pem = tmp / f"{name}.pem"
    openssl("pkey", *(["-pubin"] if public else []), "-inform", "DER",
            "-in", str(tmp / f"{name}.der"), "-out", str(pem))
    return pem


def files(tmp: Path, message: bytes, signature: bytes) -> tuple[str, str]:
    (tmp / "msg").write_bytes(message)
    (tmp / "sig").write_bytes(signature)
    return str(tmp / "msg"), str(tmp / "sig")


def sm2_verify(pub: Path, msg: str, sig: str, *options: str) -> bool:
    result = openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(pub), "-rawin",
                     "-digest", "sm3", *options, "-in", msg, "-sigfile", sig, check=False)
    return result.returncode == 0 and b"Verified Successfully" in result.stdout


# --- SM2 ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_yiwang_sm2_signature_verifies_with_openssl_given_the_default_distid(tmp_path):
    key = service.create_signing_key(owner="region", purpose="trust.list", algorithm="sm2")
    signature = service.sign_with_key(key.id, MESSAGE)
    pub = der_to_pem(tmp_path, "pub", key.public_key, public=True)
    assert b"ASN1 OID: SM2" in openssl("pkey", "-pubin", "-in", str(pub), "-noout",
                                       "-text").stdout
    msg, sig = files(tmp_path, MESSAGE, signature)
    assert sm2_verify(pub, msg, sig, "-pkeyopt", DISTID)
    # OpenSSL's own default ID is empty: without the distid the signature must not verify.
    assert not sm2_verify(pub, msg, sig)
    assert not sm2_verify(pub, msg, sig, "-pkeyopt", "distid:ALICE123@YAHOO.COM")
    flipped = bytearray(signature)
    flipped[-1] ^= 0x01
    msg, sig = files(tmp_path, MESSAGE, bytes(flipped))
    assert not sm2_verify(pub, msg, sig, "-pkeyopt", DISTID)
    msg, sig = files(tmp_path, MESSAGE + b" ", signature)
    assert not sm2_verify(pub, msg, sig, "-pkeyopt", DISTID)


def test_yiwang_sm2_private_key_is_pkcs8_openssl_reads(tmp_path):
    sm2 = registry.get_signature("sm2")
    private = sm2.generate_key()
    (tmp_path / "key.der").write_bytes(private)
    text = openssl("pkey", "-inform", "DER", "-in", str(tmp_path / "key.der"), "-noout",
                   "-text").stdout
    assert b"ASN1 OID: SM2" in text
    spki = openssl("pkey", "-inform", "DER", "-in", str(tmp_path / "key.der"), "-pubout",
                   "-outform", "DER").stdout
    assert spki == sm2.public_key(private)


def test_openssl_sm2_signature_and_key_work_in_yiwang(tmp_path):
    key = tmp_path / "key.pem"
    openssl("genpkey", "-algorithm", "SM2", "-out", str(key))
    pkcs8 = openssl("pkcs8", "-topk8", "-nocrypt", "-in", str(key), "-outform", "DER").stdout
    spki = openssl("pkey", "-in", str(key), "-pubout", "-outform", "DER").stdout
    msg, sig = files(tmp_path, MESSAGE, b"")
    openssl("pkeyutl", "-sign", "-inkey", str(key), "-rawin", "-digest", "sm3", "-pkeyopt",
            DISTID, "-in", msg, "-out", sig)
    signature = Path(sig).read_bytes()
    assert service.verify_signature("sm2", spki, MESSAGE, signature)
    assert not service.verify_signature("sm2", spki, MESSAGE + b"!", signature)
    # Signed with OpenSSL's default (empty) ID: a different ZA, so not valid for yiwang.
    openssl("pkeyutl", "-sign", "-inkey", str(key), "-rawin", "-digest", "sm3",
            "-in", msg, "-out", sig)
    assert not service.verify_signature("sm2", spki, MESSAGE, Path(sig).read_bytes())
    # OpenSSL's PKCS#8 loads in yiwang and signs for the same public key.
    sm2 = registry.get_signature("sm2")
    assert sm2.public_key(pkcs8) == spki
    assert service.verify_signature("sm2", spki, b"x", sm2.sign(pkcs8, b"x"))


# The example of GM/T 0003.5-2012 Annex A (the recommended curve, the default signer ID).
VECTOR_D = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
VECTOR_X = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
VECTOR_Y = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
VECTOR_ZA = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"
VECTOR_E = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640"
VECTOR_R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
VECTOR_S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
# SubjectPublicKeyInfo header: id-ecPublicKey, the SM2 curve 1.2.156.10197.1.301, a 65-byte point.
SPKI_PREFIX = "3059301306072A8648CE3D020106082A811CCF5501822D034200"
SM2_A = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"
SM2_B = "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"
SM2_GX = "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
SM2_GY = "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"


def vector_public_key() -> bytes:
    return bytes.fromhex(SPKI_PREFIX + "04" + VECTOR_X + VECTOR_Y)


def test_published_sm2_example_za_and_digest():
    # ZA = SM3(ENTL || ID || a || b || xG || yG || xA || yA); e = SM3(ZA || M).
    za = service.digest(bytes.fromhex("0080") + b"1234567812345678" + bytes.fromhex(
        SM2_A + SM2_B + SM2_GX + SM2_GY + VECTOR_X + VECTOR_Y), "sm3")
    assert za.hex().upper() == VECTOR_ZA
    assert service.digest(za + b"message digest", "sm3").hex().upper() == VECTOR_E


def test_published_sm2_example_verifies_in_yiwang_and_openssl(tmp_path):
    signature = service.ecdsa_raw_to_der(bytes.fromhex(VECTOR_R + VECTOR_S))
    public = vector_public_key()
    assert service.verify_signature("sm2", public, b"message digest", signature)
    assert not service.verify_signature("sm2", public, b"message digesT", signature)
    pub = der_to_pem(tmp_path, "pub", public, public=True)
    msg, sig = files(tmp_path, b"message digest", signature)
    assert sm2_verify(pub, msg, sig, "-pkeyopt", DISTID)


def test_published_sm2_example_private_key_gives_its_public_key():
    from tongsuopy.crypto import serialization
    from tongsuopy.crypto.asymciphers import ec

    key = ec.derive_private_key(int(VECTOR_D, 16), ec.SM2())
    pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    sm2 = registry.get_signature("sm2")
    assert sm2.public_key(pkcs8) == vector_public_key()
    assert sm2.verify(vector_public_key(), b"message digest", sm2.sign(pkcs8, b"message digest"))


# --- ECDSA P-256 and Ed25519 ----------------------------------------------------------------


@pytest.mark.django_db
def test_yiwang_ecdsa_p256_signature_verifies_with_openssl(tmp_path):
    key = service.create_signing_key(owner="330100", purpose="seal", algorithm="ecdsa-p256")
    signature = service.sign_with_key(key.id, MESSAGE)
    pub = der_to_pem(tmp_path, "pub", key.public_key, public=True)
    msg, sig = files(tmp_path, MESSAGE, signature)
    assert openssl("dgst", "-sha256", "-verify", str(pub), "-signature", sig, msg,
                   check=False).returncode == 0
    msg, sig = files(tmp_path, MESSAGE + b"!", signature)
    assert openssl("dgst", "-sha256", "-verify", str(pub), "-signature", sig, msg,
                   check=False).returncode != 0


def test_openssl_ecdsa_p256_signature_verifies_in_yiwang(tmp_path):
    key = tmp_path / "key.pem"
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", str(key))
    spki = openssl("pkey", "-in", str(key), "-pubout", "-outform", "DER").stdout
    msg, sig = files(tmp_path, MESSAGE, b"")
    openssl("dgst", "-sha256", "-sign", str(key), "-out", sig, msg)
    signature = Path(sig).read_bytes()
    assert service.verify_signature("ecdsa-p256", spki, MESSAGE, signature)
    assert not service.verify_signature("ecdsa-p256", spki, MESSAGE[:-1], signature)
    # The same signature as JOSE/COSE carry it, and back.
    raw = service.ecdsa_der_to_raw(signature)
    assert service.verify_signature("ecdsa-p256", spki, MESSAGE, service.ecdsa_raw_to_der(raw))


@pytest.mark.django_db
def test_yiwang_ed25519_signature_verifies_with_openssl(tmp_path):
    key = service.create_signing_key(owner="ledger:main", purpose="ledger.checkpoint",
                                     algorithm="ed25519")
    signature = service.sign_with_key(key.id, MESSAGE)
    assert len(signature) == 64
    pub = der_to_pem(tmp_path, "pub", key.public_key, public=True)
    msg, sig = files(tmp_path, MESSAGE, signature)
    assert openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(pub), "-rawin", "-in", msg,
                   "-sigfile", sig, check=False).returncode == 0
    msg, sig = files(tmp_path, MESSAGE, signature[:-1] + bytes([signature[-1] ^ 1]))
    assert openssl("pkeyutl", "-verify", "-pubin", "-inkey", str(pub), "-rawin", "-in", msg,
                   "-sigfile", sig, check=False).returncode != 0


def test_openssl_ed25519_signature_verifies_in_yiwang(tmp_path):
    key = tmp_path / "key.pem"
    openssl("genpkey", "-algorithm", "ED25519", "-out", str(key))
    spki = openssl("pkey", "-in", str(key), "-pubout", "-outform", "DER").stdout
    msg, sig = files(tmp_path, MESSAGE, b"")
    openssl("pkeyutl", "-sign", "-inkey", str(key), "-rawin", "-in", msg, "-out", sig)
    signature = Path(sig).read_bytes()
    assert service.verify_signature("ed25519", spki, MESSAGE, signature)
    assert not service.verify_signature("ed25519", spki, MESSAGE + b"!", signature)
