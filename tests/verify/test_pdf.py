"""Sealed PDFs verified offline against a bundle's roots and CRLs (pyHanko's validator)."""

from __future__ import annotations

import base64

import pytest

from tests.verify import pki as pki_mod
from yiwang.verify.bundle import TrustBundle
from yiwang.verify.pdf import verify_pdf


@pytest.fixture(scope="module")
def pki():
    return pki_mod.make_pki()


@pytest.fixture(scope="module")
def sealed(pki) -> bytes:
    return pki_mod.seal(pki_mod.plain_pdf(), pki)


def _bundle(pki, *, revoked=(), roots=None) -> TrustBundle:
    return TrustBundle({"type": "YiwangTrustBundle", "formatVersion": 1,
                        "roots": [pki.pem(r) for r in (roots or [pki.root])],
                        "crls": [base64.b64encode(pki.crl(list(revoked))).decode()],
                        "keys": []})


def test_sealed_pdf_verifies(pki, sealed) -> None:
    result = verify_pdf(sealed, _bundle(pki))
    assert result.valid, result.errors
    assert [c.name for c in result.checks] == ["signature", "certificate", "integrity"]
    assert "示例市市场监督管理局" in result.summary["signers"][0]


def test_two_seals(pki, sealed) -> None:
    twice = pki_mod.seal(sealed, pki, field="Seal2")
    result = verify_pdf(twice, _bundle(pki))
    assert result.valid, result.errors
    assert result.summary["signatures"] == 2


def test_flipped_byte_in_signed_content(pki, sealed) -> None:
    index = sealed.index(b"Licence")
    tampered = sealed[:index] + b"L1cence" + sealed[index + 7:]
    result = verify_pdf(tampered, _bundle(pki))
    assert not result.valid
    assert "signature" in result.failed_names()


def test_appended_unsigned_edit(pki, sealed) -> None:
    result = verify_pdf(pki_mod.append_edit(sealed), _bundle(pki))
    assert not result.valid
    assert result.failed_names() == ["integrity"]


def test_unsigned_bytes_appended_after_the_seal(pki, sealed) -> None:
    """Not a new revision, just bytes after the signed range: pyHanko overlooks them."""
    result = verify_pdf(sealed + b"\nJUNK UNSIGNED TEXT " * 50, _bundle(pki))
    assert not result.valid
    assert result.failed_names() == ["integrity"]
    assert verify_pdf(sealed + b"\n\n", _bundle(pki)).valid  # trailing whitespace is harmless


def test_revoked_signer(pki, sealed) -> None:
    result = verify_pdf(sealed, _bundle(pki, revoked=[pki.signer]))
    assert not result.valid
    assert result.failed_names() == ["certificate"]
    assert "吊销" in result.errors[0].message


def test_issuer_not_trusted(pki, sealed) -> None:
    other = pki_mod.make_pki("另一个根证书")
    result = verify_pdf(sealed, _bundle(other))
    assert not result.valid
    assert result.failed_names() == ["certificate"]


@pytest.mark.parametrize("data", [b"", b"not a pdf", b"%PDF-1.7\ngarbage", None])
def test_not_a_pdf(pki, data) -> None:
    result = verify_pdf(data, _bundle(pki))
    assert not result.valid
    assert result.failed_names()[0] in ("malformed", "signature")


def test_truncated(pki, sealed) -> None:
    result = verify_pdf(sealed[: len(sealed) // 2], _bundle(pki))
    assert not result.valid


def test_unsigned_pdf(pki) -> None:
    result = verify_pdf(pki_mod.plain_pdf(), _bundle(pki))
    assert result.failed_names() == ["signature"]


def test_embedded_validation_data_verifies_without_bundle_crls(pki) -> None:
    """A seal carrying its CRL (PAdES DSS, as B-LT does) validates with a bundle that has
    the root but no CRL; the same seal without it does not (revocation unknown)."""
    bundle = TrustBundle({"roots": [pki.pem(pki.root)], "crls": [], "keys": []})
    with_crl = pki_mod.seal(pki_mod.plain_pdf(), pki, embed_crl=True)
    result = verify_pdf(with_crl, bundle)
    assert result.valid, result.errors
    assert result.summary["validation_data_embedded"] is True
    without = verify_pdf(pki_mod.seal(pki_mod.plain_pdf(), pki), bundle)
    assert without.failed_names() == ["certificate"]


def test_edit_between_two_seals(pki, sealed) -> None:
    """An unsigned change after the first seal, then a second seal: the first one names it."""
    twice = pki_mod.seal(pki_mod.append_edit(sealed), pki, field="Seal2")
    result = verify_pdf(twice, _bundle(pki))
    assert not result.valid
    assert "integrity" in result.failed_names()
    assert "#1" in next(c.message for c in result.errors if c.name == "integrity")
