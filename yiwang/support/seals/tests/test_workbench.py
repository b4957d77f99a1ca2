"""电子印章 on the workbench: access rules (anonymous → sign-in, another department's official
→ 403), 印章管理, 用印 with a recent multi-factor verification, 用印记录 and 验章, and bad
uploads answered with a 400 and a message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from yiwang.support.identity.testing import sign_in_client
from yiwang.support.seals import service as seals
from yiwang.support.seals.testing import PkiBackend, sample_pdf

pytestmark = pytest.mark.django_db


def url(name: str, args: list[Any] | None = None) -> str:
    return reverse(name, args=args, urlconf="yiwang.urls.internal")


@pytest.fixture
def seal(officials: Any, pki_backend: PkiBackend) -> seals.Seal:
    return seals.create_seal(department_code="scjgj", name="示例市市场监督管理局行政审批专用章",
                             kind="approval", custodians=[officials.custodian],
                             actor=officials.custodian)


def client_for(internal_client: Any, user: Any, *, age: int = 0) -> Any:
    session = sign_in_client(internal_client, user)
    if age:
        type(session).objects.filter(pk=session.pk).update(
            auth_time=timezone.now() - timedelta(seconds=age))
    return internal_client


def upload(data: bytes, name: str = "决定书.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_anonymous_is_sent_to_sign_in(internal_client: Any, seal: seals.Seal) -> None:
    for address in (url("workbench:seals"), url("workbench:seal_use"),
                    url("workbench:seal_uses"), url("workbench:seal_verify"),
                    url("workbench:seal", args=[seal.code])):
        response = internal_client.get(address)
        assert response.status_code == 302
        assert url("workbench:login") in response["Location"]


def test_other_department_cannot_manage(internal_client: Any, seal: seals.Seal,
                                        officials: Any) -> None:
    client = client_for(internal_client, officials.outsider)
    assert client.get(url("workbench:seal", args=[seal.code])).status_code == 403
    assert client.get(url("workbench:seal_stamp", args=[seal.code])).status_code == 403
    assert client.get(url("workbench:seal_new", args=["scjgj"])).status_code == 403
    response = client.post(url("workbench:seal_action", args=[seal.code, "suspend"]),
                           {"reason": "试图越权"})
    assert response.status_code == 403
    assert client.post(url("workbench:seal_custodians", args=[seal.code]),
                       {"custodians": [officials.outsider.pk]}).status_code == 403
    seal.refresh_from_db()
    assert seal.status == "active"
    # Their own list shows their department only.
    page = client.get(url("workbench:seals")).content.decode()
    assert seal.name not in page


def test_member_without_permission_sees_but_cannot_manage(internal_client: Any,
                                                          seal: seals.Seal,
                                                          officials: Any) -> None:
    client = client_for(internal_client, officials.clerk)
    assert client.get(url("workbench:seal", args=[seal.code])).status_code == 200
    assert client.post(url("workbench:seal_action", args=[seal.code, "revoke"]),
                       {"reason": "x"}).status_code == 403
    assert client.get(url("workbench:seal_uses")).status_code == 403


def test_manager_creates_and_suspends(internal_client: Any, officials: Any,
                                      pki_backend: PkiBackend) -> None:
    client = client_for(internal_client, officials.custodian)
    response = client.post(url("workbench:seal_new", args=["scjgj"]), {
        "name": "示例市市场监督管理局合同专用章", "kind": "contract",
        "custodians": [officials.custodian.pk, officials.clerk.pk]})
    assert response.status_code == 302
    made = seals.seals_of("scjgj").get(name="示例市市场监督管理局合同专用章")
    assert set(made.custodians.all()) == {officials.custodian, officials.clerk}
    stamp = client.get(url("workbench:seal_stamp", args=[made.code]))
    assert stamp.status_code == 200 and stamp["Content-Type"] == "image/png"
    client.post(url("workbench:seal_action", args=[made.code, "suspend"]),
                {"reason": "保管人调岗"})
    made.refresh_from_db()
    assert made.status == "suspended"
    bad = client.post(url("workbench:seal_new", args=["scjgj"]), {
        "name": "", "kind": "contract", "custodians": []})
    assert bad.status_code == 400


def test_use_with_fresh_verification_downloads_sealed_pdf(internal_client: Any,
                                                          seal: seals.Seal,
                                                          officials: Any) -> None:
    client = client_for(internal_client, officials.custodian)
    page = client.get(url("workbench:seal_use"))
    assert page.status_code == 200 and "重新验证身份" not in page.content.decode()
    response = client.post(url("workbench:seal_use"), {
        "document": upload(sample_pdf()), "seals": [seal.code], "purpose": "行政许可决定书",
        "level": "B-T", "page": "1"})
    text = response.content.decode("utf-8", "replace")
    assert response.status_code == 200, text[text.find("error-summary"):][:1500]
    assert response["Content-Type"] == "application/pdf"
    result = seals.validate_pdf(response.content)
    assert result.valid and result.signatures[0].seal_code == seal.code
    uses = client.get(url("workbench:seal_uses")).content.decode()
    assert seal.name in uses and "行政许可决定书" in uses


def test_use_with_stale_verification_is_refused(internal_client: Any, seal: seals.Seal,
                                                officials: Any) -> None:
    client = client_for(internal_client, officials.custodian, age=3600)
    page = client.get(url("workbench:seal_use")).content.decode()
    assert "重新验证身份" in page
    response = client.post(url("workbench:seal_use"), {
        "document": upload(sample_pdf()), "seals": [seal.code], "purpose": "x",
        "level": "B-B", "page": "1"})
    assert response.status_code == 400
    assert seals.list_uses(seal=seal) == []


def test_reauth_asks_provider_for_a_new_sign_in(internal_client: Any, seal: seals.Seal,
                                               officials: Any) -> None:
    client = client_for(internal_client, officials.custodian, age=3600)
    response = client.get(url("workbench:seal_reauth"),
                          {"next": url("workbench:seal_use")})
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["prompt"] == ["login"] and query["acr_values"] == ["L3"]


def test_non_custodian_cannot_use(internal_client: Any, seal: seals.Seal,
                                  officials: Any) -> None:
    client = client_for(internal_client, officials.clerk)
    response = client.post(url("workbench:seal_use"), {
        "document": upload(sample_pdf()), "seals": [seal.code], "purpose": "x",
        "level": "B-B", "page": "1"})
    assert response.status_code == 400
    assert seals.list_uses(seal=seal) == []


@pytest.mark.parametrize("data,message", [
    (b"not a pdf at all", "不是 PDF"),
    (b"%PDF-1.7\n1 0 obj <<>> endobj\n", "无法读取"),
])
def test_malformed_upload_is_a_400(internal_client: Any, seal: seals.Seal, officials: Any,
                                   data: bytes, message: str) -> None:
    client = client_for(internal_client, officials.custodian)
    response = client.post(url("workbench:seal_use"), {
        "document": upload(data), "seals": [seal.code], "purpose": "x", "level": "B-B",
        "page": "1"})
    assert response.status_code == 400 and message in response.content.decode()
    verify = client.post(url("workbench:seal_verify"), {"document": upload(data)})
    assert verify.status_code == 400 and message in verify.content.decode()


def test_upload_size_limit(internal_client: Any, seal: seals.Seal, officials: Any,
                           settings: Any) -> None:
    settings.YIWANG_SEAL_MAX_PDF_BYTES = 1024
    client = client_for(internal_client, officials.custodian)
    response = client.post(url("workbench:seal_verify"), {"document": upload(sample_pdf())})
    assert response.status_code == 400 and "文件太大" in response.content.decode()


def test_verify_page(internal_client: Any, seal: seals.Seal, officials: Any) -> None:
    pdf = sample_pdf()
    import hashlib

    from yiwang.support.identity.testing import sign_in_request

    request = sign_in_request(type("R", (), {"META": {}})(), officials.custodian)
    authorisation = seals.authorise_seal_use(seal, custodian=officials.custodian,
                                             request=request, purpose="x",
                                             document_sha256=hashlib.sha256(pdf).hexdigest())
    sealed = seals.seal_pdf(pdf, seal=seal, authorisation=authorisation, level="B-B")
    client = client_for(internal_client, officials.outsider)  # any official may verify
    good = client.post(url("workbench:seal_verify"), {"document": upload(sealed)})
    assert good.status_code == 200 and "全部签章有效" in good.content.decode()
    tampered = bytearray(sealed)
    tampered[400] ^= 0x01
    bad = client.post(url("workbench:seal_verify"), {"document": upload(bytes(tampered))})
    text = bad.content.decode()
    assert "验章未通过" in text and "全部签章有效" not in text


def test_standing_authorisation_from_the_seal_page(internal_client: Any, seal: seals.Seal,
                                                   officials: Any) -> None:
    client = client_for(internal_client, officials.custodian)
    until = (timezone.now() + timedelta(days=30)).date().isoformat()
    response = client.post(url("workbench:seal_standing", args=[seal.code]),
                           {"licence_type": "yyzz", "until": until})
    assert response.status_code == 302
    assert seals.licence_seal_for("scjgj", "yyzz") is not None
    other = client_for(internal_client, officials.clerk)
    assert other.post(url("workbench:seal_standing", args=[seal.code]),
                      {"licence_type": "yyzz", "until": until}).status_code == 403


def test_use_log_is_paginated(internal_client: Any, seal: seals.Seal, officials: Any) -> None:
    """Every use can be reached, page by page (the log was capped at 200 rows)."""
    client = client_for(internal_client, officials.custodian)
    client.post(url("workbench:seal_use"), {
        "document": upload(sample_pdf()), "seals": [seal.code], "purpose": "第一份",
        "level": "B-B", "page": "1"})
    first = seals.list_uses(seal=seal)[0]
    seals.SealUse.objects.bulk_create([seals.SealUse(
        seal=seal, authorisation=first.authorisation, document_sha256=f"{n:064x}",
        sealed_sha256=f"{n:064x}", level="B-B", field_name="Seal1", reason=f"第 {n} 份")
        for n in range(2, 56)])
    page_one = client.get(url("workbench:seal_uses")).content.decode()
    assert page_one.count("<tr>") - 1 == 50 and "下一页" in page_one
    page_two = client.get(url("workbench:seal_uses") + "?page=2").content.decode()
    assert page_two.count("<tr>") - 1 == 5 and "上一页" in page_two
    one_seal = client.get(url("workbench:seal_uses") + f"?seal={seal.code}")
    assert one_seal.status_code == 200 and seal.name in one_seal.content.decode()
    detail = client.get(url("workbench:seal", args=[seal.code])).content.decode()
    assert f"?seal={seal.code}" in detail
    outsider = client_for(internal_client, officials.outsider)
    assert outsider.get(url("workbench:seal_uses") + f"?seal={seal.code}").status_code == 403


def test_several_seals_in_one_use(internal_client: Any, seal: seals.Seal,
                                  officials: Any) -> None:
    second = seals.create_seal(department_code="scjgj", name="示例市市场监督管理局合同专用章",
                               kind="contract", custodians=[officials.custodian],
                               actor=officials.custodian)
    client = client_for(internal_client, officials.custodian)
    response = client.post(url("workbench:seal_use"), {
        "document": upload(sample_pdf()), "seals": [seal.code, second.code],
        "purpose": "合同", "level": "B-B", "page": "1"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    result = seals.validate_pdf(response.content)
    assert result.valid and len(result.signatures) == 2
    uses = sorted(seals.list_uses(department_codes=["scjgj"]), key=lambda u: u.pk)
    assert {u.seal_id for u in uses} == {seal.pk, second.pk}
    assert uses[0].ledger_index is not None
    assert uses[1].ledger_index == uses[0].ledger_index + 1


def test_verify_page_is_rate_limited(internal_client: Any, officials: Any,
                                     settings: Any) -> None:
    settings.YIWANG_SEAL_VALIDATE_RATE_PER_MINUTE = 1
    client = client_for(internal_client, officials.clerk)
    assert client.post(url("workbench:seal_verify"),
                       {"document": upload(sample_pdf())}).status_code == 200
    refused = client.post(url("workbench:seal_verify"), {"document": upload(sample_pdf())})
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert "验章请求过于频繁" in refused.content.decode()
