"""跨地区互认, end to end: a licence issued by one yiwang instance verifies on a second one
after a trust-list import, and fails before it (issue 4).

Instance A is the session's demo server (示例市, region 339900000000) with the trust core's
demo data; instance B is started here for another region (邻市, 339800000000) with only its
administrator and its own PKI and trust list. Everything between them goes over HTTP, as
between two cities' IT departments: the holder downloads the licence (VC, QR text, sealed
PDF) from A's wallet and presents it to B's public verification API; B's administrator
imports A's trust list (A's /trust/list.json) after checking the fingerprint A publishes
(/api/v1/trust/fingerprint), on B's workbench; an official of A revokes the licence on A's
workbench. The offline verifier (``python -m yiwang.verify``) runs as a separate process on
B's trust bundle (/trust/bundle.json) before and after the import, with A's status list
(fetched from the URL in the credential).

Each phase is a module fixture that acts and records what it saw, in order (before → import
→ revocation), so the tests only read the records and any test order gives the same result.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import trust_steps
from tests.e2e.conftest import Server, chromium
from tests.e2e.identity_steps import sign_in_official, wait_for
from tests.e2e.trust_steps import (
    Licence,
    download_from_wallet,
    failed,
    http,
    import_trust_list,
    load_trust_core_demo,
    messages,
    offline_verify,
    passed,
    region_instance,
    revoke_in_workbench,
    sign_in_citizen,
    verify_on,
)

pytestmark = pytest.mark.e2e

REGION_B = ("339800000000", "邻市")
HOLDER, LICENCE_TYPE = "citizen4", "social_security_card"  # 社会保障卡, issued by 人社局
OFFICIAL_OF_ISSUER = "rsj.head1"  # 人社局 (in 证照管理员: may revoke its licences)
KINDS = ("vc", "qr", "pdf")
# How long B may take to see an import: each process caches its trust bundle for
# YIWANG_LICENCES_TRUST_CACHE_SECONDS (10 s by default).
CACHE_WAIT = 30.0
STATUS_UNAVAILABLE = "status list not available"
REVOKED = "证照已吊销"


@dataclass
class Record:
    """What the phases saw."""

    a: Server
    b: Server
    licence: Licence
    files: dict[str, Path]
    status_lists: list[Path] = field(default_factory=list)
    before: dict[str, dict[str, Any]] = field(default_factory=dict)
    before_offline: Any = None
    fingerprint_a: str = ""
    wrong_page: str = ""
    imported_page: str = ""
    after: dict[str, dict[str, Any]] = field(default_factory=dict)
    after_offline: Any = None
    after_offline_no_status: Any = None
    revoked_page: str = ""
    revoked_on_a: dict[str, Any] = field(default_factory=dict)
    revoked_on_b: dict[str, dict[str, Any]] = field(default_factory=dict)
    revoked_offline: Any = None


def _save(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _fetch(url: str) -> bytes:
    status, body = http(url)
    assert status == 200, (url, status, body[:300])
    return body


@pytest.fixture(scope="module")
def instance_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    code, name = REGION_B
    with contextlib.ExitStack() as stack:
        with pytest.MonkeyPatch.context() as patch:
            # B keeps A's status lists for a few seconds (300 by default), so that the
            # revocation phase sees A's revocation within CACHE_WAIT; and B's verification
            # API has no per-client budget: the phases poll it from one address, several
            # times a second, for up to CACHE_WAIT (60 a minute by default).
            patch.setattr(trust_steps, "instance_env", functools.partial(
                trust_steps.instance_env, YIWANG_LICENCES_STATUS_CACHE_SECONDS="5",
                YIWANG_LICENCES_VERIFY_RATE_PER_MINUTE="0"))
            srv = stack.enter_context(region_instance(
                tmp_path_factory.mktemp("yiwang-region-b"), region_code=code,
                region_name=name))
        yield srv


@pytest.fixture(scope="module")
def record(server: Server, instance_b: Server,
           tmp_path_factory: pytest.TempPathFactory) -> Record:
    """Phase 1, before any import: the holder's licence from A, presented to B."""
    load_trust_core_demo(server)
    with chromium() as holder:
        sign_in_citizen(server, holder, HOLDER, next_url="/licences/")
        licence = download_from_wallet(server, holder, LICENCE_TYPE)
    folder = tmp_path_factory.mktemp("interop")
    files = {
        "vc": _save(folder / "licence.json", json.dumps(licence.vc).encode()),
        "qr": _save(folder / "licence-qr.txt", licence.qr.encode()),
        "pdf": _save(folder / "licence.pdf", licence.pdf),
        "bundle_b_before": _save(folder / "bundle-b-before.json",
                                 _fetch(instance_b.public + "/trust/bundle.json")),
    }
    rec = Record(server, instance_b, licence, files)
    rec.status_lists = _status_lists(licence, folder / "status-a")
    rec.before = {kind: verify_on(instance_b, kind, item)
                  for kind, item in zip(KINDS, (licence.vc, licence.qr, licence.pdf),
                                        strict=True)}
    rec.before_offline = offline_verify(files["bundle_b_before"], files["vc"],
                                        *rec.status_lists)
    return rec


@pytest.fixture(scope="module")
def imported(record: Record) -> Record:
    """Phase 2: B's administrator imports A's trust list (a wrong fingerprint first)."""
    a, b = record.a, record.b
    document = _fetch(a.public + "/trust/list.json")
    status, raw = http(a.public + "/api/v1/trust/fingerprint")
    assert status == 200, raw[:300]
    record.fingerprint_a = str(json.loads(raw)["grouped"])
    wrong = _wrong(record.fingerprint_a)
    with chromium() as admin:
        sign_in_official(b, admin, "admin")
        record.wrong_page = import_trust_list(b, admin, document, wrong)
        record.imported_page = import_trust_list(b, admin, document, record.fingerprint_a)

    def seen() -> bool:  # B's verifier caches its trust bundle for a few seconds
        return passed(verify_on(b, "qr", record.licence.qr), "issuer")

    with contextlib.suppress(AssertionError):  # recorded below, asserted by the tests
        wait_for(seen, "B to trust A's issuer", timeout=CACHE_WAIT)
    record.after = {kind: verify_on(b, kind, item)
                    for kind, item in zip(KINDS, (record.licence.vc, record.licence.qr,
                                                  record.licence.pdf), strict=True)}
    record.files["bundle_b_after"] = _save(record.files["vc"].with_name("bundle-b-after.json"),
                                           _fetch(b.public + "/trust/bundle.json"))
    record.after_offline = offline_verify(record.files["bundle_b_after"], record.files["vc"],
                                          *record.status_lists)
    record.after_offline_no_status = offline_verify(record.files["bundle_b_after"],
                                                    record.files["vc"])
    return record


@pytest.fixture(scope="module")
def revoked(imported: Record) -> Record:
    """Phase 3: an official of A's issuing department revokes the licence on A."""
    rec = imported
    with chromium() as official:
        sign_in_official(rec.a, official, OFFICIAL_OF_ISSUER)
        rec.revoked_page = revoke_in_workbench(rec.a, official, rec.licence.pk,
                                               "互认测试:注销")
    rec.revoked_on_a = verify_on(rec.a, "vc", rec.licence.vc)
    fresh = _status_lists(rec.licence, rec.files["vc"].parent / "status-a-after-revocation")
    rec.revoked_offline = offline_verify(rec.files["bundle_b_after"], rec.files["vc"], *fresh)

    def seen() -> bool:  # B fetched A's list before: its copy expires after 5 s
        said = messages(verify_on(rec.b, "vc", rec.licence.vc), "status")
        # A fetch that failed will not succeed by waiting: test_b_reports_the_revocation
        # then fails naming why.
        return REVOKED in said or STATUS_UNAVAILABLE in said

    with contextlib.suppress(AssertionError):
        wait_for(seen, "B to see the revocation", timeout=CACHE_WAIT)
    rec.revoked_on_b = {kind: verify_on(rec.b, kind, item)
                        for kind, item in (("vc", rec.licence.vc), ("qr", rec.licence.qr))}
    return rec


def _status_lists(licence: Licence, stem: Path) -> list[Path]:
    """Each status list the credential names (revocation, suspension), fetched from A."""
    return [_save(stem.with_name(f"{stem.name}-{n}.json"), _fetch(url))
            for n, url in enumerate(licence.status_list_urls)]


def _wrong(grouped: str) -> str:
    """The fingerprint with its last digit changed (a typo, or a forged list's root)."""
    last = grouped[-1]
    return grouped[:-1] + ("0" if last != "0" else "1")


def _issuer_of(licence: Licence) -> str:
    issuer = licence.vc["issuer"]
    return str(issuer["id"] if isinstance(issuer, dict) else issuer)


# --- before the import ----------------------------------------------------------------------

def test_before_import_b_names_the_untrusted_issuer_of_the_vc(record: Record) -> None:
    issuer = _issuer_of(record.licence)
    assert issuer.startswith(record.a.public)
    result = record.before["vc"]
    assert result["valid"] is False
    assert "issuer" in result["errors"], result["checks"]
    assert "not on any trusted list" in messages(result, "issuer")
    assert issuer in messages(result, "issuer")
    assert failed(result, "verification_method")  # A's key is unknown to B
    assert not passed(result, "signature")


def test_before_import_b_refuses_the_qr_and_names_its_issuer(record: Record) -> None:
    result = record.before["qr"]
    assert result["valid"] is False
    assert failed(result, "kid"), result["checks"]
    assert "unknown or untrusted kid" in messages(result, "kid")
    assert not passed(result, "signature")
    assert failed(result, "issuer") and _issuer_of(record.licence) in messages(result, "issuer")


def test_before_import_b_does_not_trust_the_sealed_pdf(record: Record) -> None:
    result = record.before["pdf"]
    assert result["valid"] is False
    assert failed(result, "certificate"), result["checks"]
    assert "not trusted" in messages(result, "certificate")
    assert "人社局" in messages(result, "signature")  # the seal that is not trusted


def test_offline_verifier_with_b_bundle_before_import_fails(record: Record) -> None:
    run = record.before_offline
    assert run.returncode == 1, (run.stdout, run.stderr)
    result = json.loads(run.stdout)
    assert result["valid"] is False
    assert any(c["name"] == "issuer" and not c["ok"] for c in result["checks"])


# --- the import -----------------------------------------------------------------------------

def test_a_wrong_fingerprint_is_refused_and_imports_nothing(imported: Record) -> None:
    page = imported.wrong_page
    assert "根证书指纹不符" in page, page[:2000]
    assert "已导入示例市的信任列表" not in page
    assert "示例市（339900000000）" not in page  # no row in 已导入的地区


def test_the_right_fingerprint_imports_a_trust_list(imported: Record) -> None:
    page = imported.imported_page
    assert "已导入示例市的信任列表" in page, page[:2000]
    assert "示例市（339900000000）" in page  # 已导入的地区
    assert imported.fingerprint_a.replace(" ", "").lower()[:17] in page  # its root, checked


# --- after the import -------------------------------------------------------------------------

def test_after_import_b_trusts_the_seals_of_the_pdf(imported: Record) -> None:
    """B now trusts A's seal, but a PDF alone cannot tell B whether A's licence is still
    valid: B says so (the QR code printed on it carries the status) and never calls it a
    valid licence."""
    result = imported.after["pdf"]
    assert passed(result, "certificate") and passed(result, "signature"), result["checks"]
    assert failed(result, "licence") and "二维码" in messages(result, "licence")
    assert result["valid"] is False


def test_after_import_b_trusts_the_issuer_of_the_vc_and_qr(imported: Record) -> None:
    for kind in ("vc", "qr"):
        result = imported.after[kind]
        for name in ("signature", "issuer", "authorised"):
            assert passed(result, name), (kind, name, result["checks"])
        assert "人社局" in messages(result, "issuer")
    for kind in ("vc", "qr"):
        assert imported.after[kind]["valid"] is True, imported.after[kind]["checks"]


def test_offline_verifier_with_b_bundle_after_import_succeeds(imported: Record) -> None:
    run = imported.after_offline
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert json.loads(run.stdout)["valid"] is True
    # Without A's status list the same bundle cannot say the licence is not revoked.
    bare = imported.after_offline_no_status
    assert bare.returncode == 1
    assert any(c["name"] == "status" and not c["ok"]
               for c in json.loads(bare.stdout)["checks"])


# --- revocation -------------------------------------------------------------------------------

def test_a_revokes_and_its_status_list_says_so(revoked: Record) -> None:
    assert "证照已注销" in revoked.revoked_page, revoked.revoked_page[:2000]
    on_a = revoked.revoked_on_a
    assert on_a["valid"] is False and REVOKED in messages(on_a, "status"), on_a["checks"]
    # Offline, with B's bundle and A's status lists fetched again: revoked.
    run = revoked.revoked_offline
    assert run.returncode == 1, (run.stdout, run.stderr)
    assert any(c["name"] == "status" and not c["ok"] and REVOKED in c["message"]
               for c in json.loads(run.stdout)["checks"])


def test_b_reports_the_revocation(revoked: Record) -> None:
    for kind, result in revoked.revoked_on_b.items():
        assert result["valid"] is False, (kind, result["checks"])
    for kind, result in revoked.revoked_on_b.items():
        assert failed(result, "status"), (kind, result["checks"])
        assert REVOKED in messages(result, "status"), (kind, result["checks"])
