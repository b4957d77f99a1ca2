"""The seals service: the registry, custodians' multi-factor authorisation, sealing with the
ledger and audit entries, and 验章 — on a stand-in PKI (``pki_backend``)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_request
from yiwang.support.seals import pades
from yiwang.support.seals import service as seals
from yiwang.support.seals.testing import PkiBackend, TestPki, sample_pdf

pytestmark = pytest.mark.django_db


def request_of(user: Any, *, amr: tuple[str, ...] = ("pwd", "otp"), age: int = 0) -> Any:
    request = sign_in_request(RequestFactory().post("/"), user, amr=amr)
    if age:
        session = identity.current_session(request)
        type(session).objects.filter(pk=session.pk).update(
            auth_time=timezone.now() - timedelta(seconds=age))
        request.__dict__.pop("_yiwang_account_session", None)
    return request


def actions(name: str) -> list[Any]:
    return list(audit.search(audit.AuditFilter(action=name)))


@pytest.fixture
def seal(officials: Any, pki_backend: PkiBackend) -> seals.Seal:
    return seals.create_seal(department_code="scjgj", name="示例市市场监督管理局行政审批专用章",
                             kind="approval", custodians=[officials.custodian],
                             actor=officials.custodian)


@pytest.fixture
def pdf() -> bytes:
    return sample_pdf()


def authorise_once(seal: seals.Seal, user: Any, pdf: bytes) -> seals.SealAuthorisation:
    return seals.authorise_seal_use(seal, custodian=user, request=request_of(user),
                                    purpose="行政许可决定书",
                                    document_sha256=hashlib.sha256(pdf).hexdigest())


# --- registry ----------------------------------------------------------------------------------

def test_create_seal(seal: seals.Seal, officials: Any, pki_backend: PkiBackend) -> None:
    assert seal.status == "active" and seal.department.code == "scjgj"
    assert bytes(seal.stamp_png).startswith(b"\x89PNG")
    assert seal.key_id in pki_backend.keys
    assert len(seal.certificate_sha256) == 64
    assert list(seal.custodians.all()) == [officials.custodian]
    assert actions("seals.seal_created")[0].object_id == str(seal.pk)


def test_custodian_must_be_an_official_of_the_department(officials: Any,
                                                         pki_backend: PkiBackend) -> None:
    with pytest.raises(ValidationError, match="不是本部门的公职人员"):
        seals.create_seal(department_code="scjgj", name="合同专用章", kind="contract",
                          custodians=[officials.outsider], actor=officials.custodian)
    with pytest.raises(ValidationError, match="至少指定一名"):
        seals.create_seal(department_code="scjgj", name="合同专用章", kind="contract",
                          custodians=[], actor=officials.custodian)


def test_may_manage_only_own_department(officials: Any) -> None:
    assert seals.may_manage(officials.custodian, "scjgj")
    assert not seals.may_manage(officials.outsider, "scjgj")  # another department
    assert not seals.may_manage(officials.clerk, "scjgj")  # no permission


def test_duplicate_name_refused(seal: seals.Seal, officials: Any) -> None:
    with pytest.raises(ValidationError, match="已有名为"):
        seals.create_seal(department_code="scjgj", name=seal.name, kind="approval",
                          custodians=[officials.custodian], actor=officials.custodian)


# --- authorisation -----------------------------------------------------------------------------

def test_authorisation_needs_fresh_multi_factor(seal: seals.Seal, officials: Any,
                                                pdf: bytes) -> None:
    digest = hashlib.sha256(pdf).hexdigest()
    user = officials.custodian
    with pytest.raises(seals.StepUpRequired):
        seals.authorise_seal_use(seal, custodian=user, request=request_of(user, age=3600),
                                 purpose="x", document_sha256=digest)
    with pytest.raises(seals.StepUpRequired):
        seals.authorise_seal_use(seal, custodian=user, request=request_of(user, amr=("pwd",)),
                                 purpose="x", document_sha256=digest)
    done = seals.authorise_seal_use(seal, custodian=user, request=request_of(user),
                                    purpose="x", document_sha256=digest)
    assert done.auth_level == 3 and "mfa" in done.auth_methods
    assert actions("seals.use_authorised")


def test_only_the_custodian_authorises(seal: seals.Seal, officials: Any, pdf: bytes) -> None:
    digest = hashlib.sha256(pdf).hexdigest()
    with pytest.raises(ValidationError, match="保管人"):
        seals.authorise_seal_use(seal, custodian=officials.clerk,
                                 request=request_of(officials.clerk), purpose="x",
                                 document_sha256=digest)
    with pytest.raises(ValidationError, match="本人"):  # someone else's session
        seals.authorise_seal_use(seal, custodian=officials.custodian,
                                 request=request_of(officials.clerk), purpose="x",
                                 document_sha256=digest)


def test_single_or_standing(seal: seals.Seal, officials: Any) -> None:
    user = officials.custodian
    with pytest.raises(ValidationError, match="二选一"):
        seals.authorise_seal_use(seal, custodian=user, request=request_of(user), purpose="x")
    with pytest.raises(ValidationError, match="SHA-256"):
        seals.authorise_seal_use(seal, custodian=user, request=request_of(user), purpose="x",
                                 document_sha256="abc")
    with pytest.raises(ValidationError, match="晚于现在"):
        seals.authorise_seal_use(seal, custodian=user, request=request_of(user), purpose="x",
                                 standing_until=timezone.now() - timedelta(days=1))


# --- sealing -----------------------------------------------------------------------------------

@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT"])
def test_seal_and_validate(seal: seals.Seal, officials: Any, pdf: bytes, level: str) -> None:
    authorisation = authorise_once(seal, officials.custodian, pdf)
    sealed = seals.seal_pdf(pdf, seal=seal, authorisation=authorisation, level=level,
                            reason="行政许可", actor=officials.custodian)
    use = seals.list_uses(seal=seal)[0]
    assert use.document_sha256 == hashlib.sha256(pdf).hexdigest()
    assert use.sealed_sha256 == hashlib.sha256(sealed).hexdigest()
    assert use.level == level and use.field_name == "Seal1"
    assert actions("seals.seal_used")[0].detail["authorisation"] == authorisation.pk
    result = seals.validate_pdf(sealed)
    assert result.valid, [s.failed for s in result.signatures]
    assert result.signatures[0].seal_code == seal.code
    assert result.signatures[0].level == level


def test_single_use_authorisation_is_used_up(seal: seals.Seal, officials: Any,
                                             pdf: bytes) -> None:
    authorisation = authorise_once(seal, officials.custodian, pdf)
    seals.seal_pdf(pdf, seal=seal, authorisation=authorisation, level="B-B")
    with pytest.raises(ValidationError, match="只能使用一次"):
        seals.seal_pdf(pdf, seal=seal, authorisation=authorisation, level="B-B")


def test_authorisation_is_bound_to_the_document(seal: seals.Seal, officials: Any,
                                                pdf: bytes) -> None:
    authorisation = authorise_once(seal, officials.custodian, pdf)
    with pytest.raises(ValidationError, match="另一份文件"):
        seals.seal_pdf(sample_pdf("另一份文件"), seal=seal, authorisation=authorisation,
                       level="B-B")


def test_standing_authorisation_for_licences(seal: seals.Seal, officials: Any,
                                             pdf: bytes) -> None:
    assert seals.licence_seal_for("scjgj", "yyzz") is None
    user = officials.custodian
    authorisation = seals.authorise_seal_use(
        seal, custodian=user, request=request_of(user), purpose=seals.licence_purpose("yyzz"),
        standing_until=timezone.now() + timedelta(days=30))
    found = seals.licence_seal_for("scjgj", "yyzz")
    assert found == (seal, authorisation)
    assert seals.licence_seal_for("scjgj", "jhz") is None  # another licence type
    assert seals.licence_seal_for("csglj", "yyzz") is None  # another department
    purpose = seals.licence_purpose("yyzz")
    first = seals.seal_pdf(pdf, seal=seal, authorisation=authorisation, level="B-B",
                           purpose=purpose)
    second = seals.seal_pdf(sample_pdf("第二份"), seal=seal, authorisation=authorisation,
                            level="B-B", purpose=purpose)
    assert seals.validate_pdf(first).valid and seals.validate_pdf(second).valid
    seals.withdraw_authorisation(authorisation, actor=user)
    assert seals.licence_seal_for("scjgj", "yyzz") is None
    with pytest.raises(ValidationError, match="撤回"):
        seals.seal_pdf(pdf, seal=seal, authorisation=authorisation, level="B-B",
                       purpose=purpose)


def test_two_seals_on_one_document(seal: seals.Seal, officials: Any, pdf: bytes) -> None:
    second = seals.create_seal(department_code="scjgj", name="示例市市场监督管理局合同专用章",
                               kind="contract", custodians=[officials.custodian],
                               actor=officials.custodian)
    once = seals.seal_pdf(pdf, seal=seal, authorisation=authorise_once(
        seal, officials.custodian, pdf), level="B-LT")
    twice = seals.seal_pdf(once, seal=second, authorisation=authorise_once(
        second, officials.custodian, once), level="B-LT")
    result = seals.validate_pdf(twice)
    assert result.valid
    assert [s.seal_code for s in result.signatures] == [seal.code, second.code]


def test_suspended_seal_does_not_seal(seal: seals.Seal, officials: Any, pdf: bytes) -> None:
    authorisation = authorise_once(seal, officials.custodian, pdf)
    seals.suspend_seal(seal, reason="印章保管人调岗", actor=officials.custodian)
    with pytest.raises(ValidationError, match="暂停使用"):
        seals.seal_pdf(pdf, seal=seal, authorisation=authorisation, level="B-B")
    seals.reinstate_seal(seal, actor=officials.custodian)
    assert seals.validate_pdf(seals.seal_pdf(pdf, seal=seal, authorisation=authorisation,
                                             level="B-B")).valid


def test_revoked_seal_invalidates_its_signatures(seal: seals.Seal, officials: Any,
                                                 pdf: bytes) -> None:
    sealed = seals.seal_pdf(pdf, seal=seal, authorisation=authorise_once(
        seal, officials.custodian, pdf), level="B-T")
    assert seals.validate_pdf(sealed).valid
    seals.revoke_seal(seal, reason="印章遗失", actor=officials.custodian)
    result = seals.validate_pdf(sealed)
    assert not result.valid
    assert "revocation" in {c.name for c in result.signatures[0].failed}
    assert actions("seals.seal_revoked")


def test_custodian_leaving_ends_their_standing_authorisation(
        seal: seals.Seal, officials: Any) -> None:
    user = officials.custodian
    seals.authorise_seal_use(seal, custodian=user, request=request_of(user),
                             purpose="licence:*",
                             standing_until=timezone.now() + timedelta(days=10))
    assert seals.licence_seal_for("scjgj") is not None
    seals.set_custodians(seal, [officials.clerk], actor=user)
    assert seals.licence_seal_for("scjgj") is None


def test_validate_pdf_bad_input(pdf: bytes, pki_backend: PkiBackend) -> None:
    with pytest.raises(ValidationError, match="无法读取"):
        seals.validate_pdf(b"%PDF-1.7 nonsense")
    result = seals.validate_pdf(pdf)
    assert not result.valid and result.errors == ["文件中没有电子签章。"]


def test_size_limit(settings: Any, pki_backend: PkiBackend, pdf: bytes) -> None:
    settings.YIWANG_SEAL_MAX_PDF_BYTES = 1000
    with pytest.raises(ValidationError, match="文件太大"):
        seals.validate_pdf(pdf)


# --- 验章 of other regions' seals (review M7) ------------------------------------------------

def partner_sealed(partner: TestPki, level: str) -> tuple[bytes, Any]:
    """A PDF sealed in another region (its own PKI and TSA), with that seal's certificate."""
    key, cert = partner.seal_key("深圳市市场监督管理局")
    return pades.seal(sample_pdf("深圳市文件"), key=key, level=level,
                      timestamp=partner.timestamp, trust_roots=[partner.root_der],
                      crls=[partner.crl()]), cert


def test_seal_a_partner_region_revoked_fails(pki_backend: PkiBackend) -> None:
    partner = pki_backend.add_partner(TestPki("深圳市政务根证书"))
    sealed, cert = partner_sealed(partner, "B-T")
    assert seals.validate_pdf(sealed).valid
    partner.revoke(cert)  # the partner's CRL, as its imported trust list carries it
    result = seals.validate_pdf(sealed)
    assert not result.valid
    failed = {c.name: c.message for c in result.signatures[0].failed}
    assert set(failed) == {"revocation"}
    assert "已被吊销" in failed["revocation"]


@pytest.mark.parametrize("level", ["B-B", "B-T"])
def test_seal_no_crl_covers_is_revocation_unknown(pki_backend: PkiBackend, level: str) -> None:
    """A trusted root whose CRL we do not hold: the seal is never valid for want of data."""
    partner = pki_backend.add_partner(TestPki("深圳市政务根证书"), with_crl=False)
    sealed, _cert = partner_sealed(partner, level)
    result = seals.validate_pdf(sealed)
    assert not result.valid
    report = result.signatures[0]
    assert {c.name for c in report.checks if c.ok} >= {"integrity", "coverage", "trust"}
    failed = {c.name: c.message for c in report.failed}
    assert "无法确认签章证书是否已被吊销" in failed["revocation"]
    if level == "B-T":  # the partner's TSA certificate is not covered either
        assert "无法确认时间戳机构的证书是否已被吊销" in failed["timestamp"]


def test_stale_crl_is_revocation_unknown(pki_backend: PkiBackend, monkeypatch: Any) -> None:
    """A CRL past its nextUpdate covers nothing."""
    partner = pki_backend.add_partner(TestPki("深圳市政务根证书"))
    sealed, _cert = partner_sealed(partner, "B-B")
    stale = partner.crl(next_update=timezone.now() - timedelta(hours=1))
    monkeypatch.setattr(partner, "crl", lambda **kwargs: stale)
    result = seals.validate_pdf(sealed)
    assert not result.valid
    assert "无法确认" in {c.name: c.message for c in result.signatures[0].failed}["revocation"]


# --- a standing authorisation's purpose (review L1) -------------------------------------------

def standing(seal: seals.Seal, user: Any, purpose: str) -> seals.SealAuthorisation:
    return seals.authorise_seal_use(seal, custodian=user, request=request_of(user),
                                    purpose=purpose,
                                    standing_until=timezone.now() + timedelta(days=10))


def test_standing_authorisation_seals_only_its_purpose(seal: seals.Seal, officials: Any,
                                                       pdf: bytes) -> None:
    for_type = standing(seal, officials.custodian, seals.licence_purpose("yyzz"))
    sealed = seals.seal_pdf(pdf, seal=seal, authorisation=for_type, level="B-B",
                            purpose=seals.licence_purpose("yyzz"))
    assert seals.validate_pdf(sealed).valid
    with pytest.raises(ValidationError, match="须注明本次用印的用途"):
        seals.seal_pdf(pdf, seal=seal, authorisation=for_type, level="B-B")
    for other in (seals.licence_purpose("csyxzm"), "licence:*", "合同"):
        with pytest.raises(ValidationError, match="只能用于"):
            seals.seal_pdf(pdf, seal=seal, authorisation=for_type, level="B-B", purpose=other)
    any_licence = standing(seal, officials.custodian, "licence:*")
    seals.seal_pdf(pdf, seal=seal, authorisation=any_licence, level="B-B",
                   purpose=seals.licence_purpose("csyxzm"))
    with pytest.raises(ValidationError, match="只能用于"):
        seals.seal_pdf(pdf, seal=seal, authorisation=any_licence, level="B-B",
                       purpose="行政许可决定书")
    assert seals.list_uses(seal=seal)[0].authorisation_id == any_licence.pk
