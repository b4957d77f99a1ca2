"""密钥与证书 and 信任列表 on the workbench: who may manage which keys, and the pages' actions."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission

from yiwang.core.crypto import service as crypto
from yiwang.platform.orgs import service as orgs
from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_client
from yiwang.support.trust import pki
from yiwang.support.trust import service as trust
from yiwang.support.trust.tests.conftest import ForeignList

pytestmark = pytest.mark.django_db


def official(username: str, department: str | None, *perms: str) -> Any:
    user = identity.create_official(username, "王小明", password="x-Password-1")
    if department:
        orgs.add_member(user, department)
    for dotted in perms:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))
    return user


@pytest.fixture
def scjg_client(city: Any, internal_client: Any) -> Any:
    sign_in_client(internal_client, official("scjg.clerk", "scjg",
                                             "trust.manage_department_keys"))
    return internal_client


def test_anonymous_is_sent_to_sign_in(city: Any, internal_client: Any) -> None:
    for url in ("/trust/keys/", "/trust/keys/scjg/", "/trust/lists/"):
        response = internal_client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
    response = internal_client.post("/trust/keys/scjg/new/", {"purpose": "seal"})
    assert response.status_code == 302 and "login" in response["Location"]
    assert crypto.list_signing_keys(owner="scjg") == []


def test_workbench_is_not_on_the_public_listener(city: Any, public_client: Any) -> None:
    assert public_client.get("/trust/keys/").status_code == 404


def test_official_manages_own_department(scjg_client: Any) -> None:
    response = scjg_client.get("/trust/keys/")
    assert response.status_code == 302 and response["Location"].endswith("/trust/keys/scjg/")
    response = scjg_client.post("/trust/keys/scjg/new/", {"purpose": "seal"})
    assert response.status_code == 302
    [key] = crypto.list_signing_keys(owner="scjg")
    certificate = trust.certificate_for_key(key.id)
    assert certificate is not None and certificate.usage == "seal"
    page = scjg_client.get("/trust/keys/scjg/").content.decode()
    assert key.id in page and certificate.serial in page
    assert "trust.certificate_issued" in page  # the audit trail
    response = scjg_client.post(f"/trust/keys/scjg/{key.id}/rotate/")
    assert response.status_code == 302
    keys = crypto.list_signing_keys(owner="scjg")
    assert {k.status for k in keys} == {"active", "retired"}
    active = next(k for k in keys if k.status == "active")
    scjg_client.post(f"/trust/keys/scjg/{active.id}/revoke/", {"reason": "key_compromise"})
    assert crypto.get_signing_key(active.id).status == "revoked"  # type: ignore[union-attr]
    assert trust.list_certificates(owner="scjg")[0].status == "revoked"


def test_official_cannot_manage_another_department(scjg_client: Any) -> None:
    other = crypto.create_signing_key(owner="rsj", purpose="seal", algorithm="ecdsa-p256")
    certificate = trust.certify_key(other.id, department_code="rsj", usage="seal")
    assert scjg_client.get("/trust/keys/rsj/").status_code == 403
    assert scjg_client.post("/trust/keys/rsj/new/", {"purpose": "seal"}).status_code == 403
    assert scjg_client.post(f"/trust/keys/rsj/{other.id}/revoke/").status_code == 403
    # nor through its own department's URL with the other's key or certificate
    assert scjg_client.post(f"/trust/keys/scjg/{other.id}/revoke/").status_code == 403
    assert scjg_client.post(
        f"/trust/keys/scjg/certificates/{certificate.serial}/revoke/").status_code == 403
    assert scjg_client.get("/trust/keys/region/").status_code == 403
    assert crypto.get_signing_key(other.id).status == "active"  # type: ignore[union-attr]
    assert trust.get_certificate(certificate.serial).status == "valid"  # type: ignore[union-attr]
    assert scjg_client.get("/trust/lists/").status_code == 403


def test_region_wide_manager_sees_every_department(city: Any, internal_client: Any) -> None:
    sign_in_client(internal_client, official("pki.admin", None, trust.MANAGE_ALL_PERMISSION))
    page = internal_client.get("/trust/keys/").content.decode()
    assert "市场监管局" in page and "人社局" in page
    assert internal_client.get("/trust/keys/rsj/").status_code == 200
    assert internal_client.get("/trust/keys/region/").status_code == 200


def test_trust_list_page_publish_and_import(city: Any, internal_client: Any,
                                            foreign: ForeignList) -> None:
    sign_in_client(internal_client, official("list.admin", "scjg", trust.TRUST_LIST_PERMISSION))
    page = internal_client.get("/trust/lists/")
    assert page.status_code == 200
    assert trust.trust_list_fingerprint() in page.content.decode()
    assert internal_client.post("/trust/lists/publish/").status_code == 302
    assert [v.sequence for v in trust.list_published()] == [1]
    wrong = internal_client.post("/trust/lists/", {"fingerprint": "ab" * 32,
                                                   "pasted": foreign.raw.decode()})
    assert wrong.status_code == 400 and "指纹不符" in wrong.content.decode()
    assert trust.list_imported() == []
    done = internal_client.post("/trust/lists/", {"fingerprint": foreign.fingerprint,
                                                  "pasted": foreign.raw.decode()})
    assert done.status_code == 302
    page = internal_client.get("/trust/lists/").content.decode()
    assert "深圳市" in page
    assert trust.resolve_key(foreign.vm_id) is not None


def test_a_member_without_the_permission_manages_nothing(city: Any, internal_client: Any
                                                         ) -> None:
    """Membership alone is not enough: revoking a licence key stops every licence it signed
    from verifying."""
    sign_in_client(internal_client, official("scjg.member", "scjg"))
    assert internal_client.get("/trust/keys/scjg/").status_code == 403
    response = internal_client.post("/trust/keys/scjg/new/", {"purpose": "licence.vc"})
    assert response.status_code == 403


def test_seal_keys_are_not_revoked_here(scjg_client: Any) -> None:
    from yiwang.core.crypto import service as crypto

    key = crypto.create_signing_key(owner="scjg", purpose="seal:scjg-1", algorithm="ecdsa-p256")
    response = scjg_client.post(f"/trust/keys/scjg/{key.id}/revoke/", {"reason": "superseded"})
    assert response.status_code == 403
    assert crypto.get_signing_key(key.id).status == "active"


def test_a_key_whose_certificate_was_compromised_is_not_certified_again(city: Any) -> None:
    from django.core.exceptions import ValidationError

    from yiwang.core.crypto import service as crypto
    from yiwang.support.trust import service as trust

    key = crypto.create_signing_key(owner="scjg", purpose="licence.cose",
                                    algorithm="ecdsa-p256")
    certificate = trust.certify_key(key.id, department_code="scjg", usage="licence")
    trust.revoke_certificate(certificate.serial, reason="key_compromise")
    with pytest.raises(ValidationError) as exc:
        trust.certify_key(key.id, department_code="scjg", usage="licence")
    assert exc.value.code == "key_compromised"


def test_importing_a_changed_root_asks_for_confirmation(city: Any, internal_client: Any
                                                        ) -> None:
    """The import form names the old and the new root fingerprint and imports only once the
    admin ticks the confirmation (review L1)."""
    from yiwang.core.audit import service as audit
    from yiwang.support.trust.tests.conftest import make_foreign_list

    sign_in_client(internal_client, official("list.admin", "scjg", trust.TRUST_LIST_PERMISSION))
    first = make_foreign_list(sequence=1)
    trust.import_trust_list(first.raw, fingerprint=first.fingerprint)
    other = make_foreign_list(sequence=2)
    asked = internal_client.post("/trust/lists/", {"fingerprint": other.fingerprint,
                                                   "pasted": other.raw.decode()})
    page = asked.content.decode()
    assert asked.status_code == 400
    assert first.fingerprint in page and other.fingerprint in page
    assert 'name="confirm_root_change"' in page and 'name="previous_root"' in page
    assert [r.sequence for r in trust.list_imported()] == [1]
    old = pki.normalise_fingerprint(first.fingerprint)
    unticked = internal_client.post("/trust/lists/", {
        "fingerprint": other.fingerprint, "pasted": other.raw.decode(), "previous_root": old})
    assert unticked.status_code == 400 and 'name="confirm_root_change"' in \
        unticked.content.decode()
    assert [r.sequence for r in trust.list_imported()] == [1]
    done = internal_client.post("/trust/lists/", {
        "fingerprint": other.fingerprint, "pasted": other.raw.decode(),
        "previous_root": asked.context["form"]["previous_root"].value(),
        "confirm_root_change": "on"})
    assert done.status_code == 302
    assert [r.sequence for r in trust.list_imported()] == [2, 1]
    assert audit.search(audit.AuditFilter()).filter(action="trust.root_changed").count() == 1


def _list_admin(internal_client: Any) -> Any:
    sign_in_client(internal_client, official("list.admin", "scjg", trust.TRUST_LIST_PERMISSION))
    return internal_client


def test_trust_list_tables_are_paginated_each_on_its_own(city: Any, internal_client: Any
                                                         ) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from yiwang.support.trust.models import ImportedTrustList, TrustListVersion

    client = _list_admin(internal_client)
    now = timezone.now()
    for sequence in range(1, 26):
        TrustListVersion.objects.create(
            sequence=sequence, document=b"{}", sha256=f"{sequence:064x}", root_fingerprint="0",
            issued_at=now, next_update=now + timedelta(days=30), issuers=sequence)
    for number in range(1, 23):
        ImportedTrustList.objects.create(
            region_code=f"R{number:03d}", region_name=f"地区{number:03d}", sequence=1,
            document=b"{}", sha256="0" * 64, root_fingerprint="0" * 64, issued_at=now,
            next_update=now + timedelta(days=30))

    def rows(page: Any, key: str) -> list[Any]:
        return list(page.context[key].object_list)

    first = client.get("/trust/lists/")
    assert [v.sequence for v in rows(first, "published")] == list(range(25, 5, -1))
    assert [r.region_code for r in rows(first, "imported")][:2] == ["R001", "R002"]
    assert len(rows(first, "imported")) == 20
    text = first.content.decode()
    assert 'href="?published=2"' in text and 'href="?imported=2"' in text
    assert "共 25 版" in text
    second = client.get("/trust/lists/?published=2&imported=2")
    assert [v.sequence for v in rows(second, "published")] == [5, 4, 3, 2, 1]
    assert [r.region_code for r in rows(second, "imported")] == ["R021", "R022"]
    # each pager keeps the other's page
    assert 'href="?published=1&amp;imported=2"' in second.content.decode()
    beyond = client.get("/trust/lists/?published=99&imported=x")
    assert beyond.status_code == 200
    assert [v.sequence for v in rows(beyond, "published")] == [5, 4, 3, 2, 1]


def test_empty_trust_list_tables_say_what_to_do(city: Any, internal_client: Any) -> None:
    page = _list_admin(internal_client).get("/trust/lists/").content.decode()
    assert "尚未发布信任列表" in page and "发布新版本" in page
    assert "尚未导入其他地区的信任列表" in page and "/trust/list.json" in page
    assert 'class="pagination"' not in page


def test_certify_and_certificate_revoke_actions(scjg_client: Any) -> None:
    key = crypto.create_signing_key(owner="scjg", purpose="licence.vc", algorithm="ed25519")
    response = scjg_client.post(f"/trust/keys/scjg/{key.id}/certify/", follow=True)
    assert "已签发证书" in response.content.decode()
    certificate = trust.certificate_for_key(key.id)
    assert certificate is not None and certificate.usage == "licence"
    response = scjg_client.post(
        f"/trust/keys/scjg/certificates/{certificate.serial}/revoke/",
        {"reason": "key_compromise"}, follow=True)
    assert "证书已撤销" in response.content.decode()
    assert trust.get_certificate(certificate.serial).status == "revoked"  # type: ignore[union-attr]
    # A refusal of the service is a message on the page, not an error page.
    refused = scjg_client.post(f"/trust/keys/scjg/{key.id}/certify/", follow=True)
    assert refused.status_code == 200
    assert "密钥泄露" in refused.content.decode()
    assert [c.status for c in trust.list_certificates(owner="scjg")] == ["revoked"]


def test_a_key_compromise_revokes_the_key_too(scjg_client: Any) -> None:
    """Revoking a certificate for key compromise takes the key out of service: issuance
    must not go on signing with it (review A-M5)."""
    key = crypto.create_signing_key(owner="scjg", purpose="licence.cose", algorithm="ecdsa-p256")
    certificate = trust.certify_key(key.id, department_code="scjg", usage="licence")
    superseded = crypto.create_signing_key(owner="scjg", purpose="licence.vc",
                                           algorithm="ed25519")
    other = trust.certify_key(superseded.id, department_code="scjg", usage="licence")
    scjg_client.post(f"/trust/keys/scjg/certificates/{certificate.serial}/revoke/",
                     {"reason": "key_compromise"})
    scjg_client.post(f"/trust/keys/scjg/certificates/{other.serial}/revoke/",
                     {"reason": "superseded"})
    assert crypto.get_signing_key(key.id).status == "revoked"
    assert crypto.get_signing_key(superseded.id).status == "active"  # not compromised


def test_a_seal_certificate_is_not_revoked_here(scjg_client: Any) -> None:
    """A seal's certificate is revoked with the seal (印章管理), never from this page."""
    key = crypto.create_signing_key(owner="scjg", purpose="seal:scjg-9", algorithm="ecdsa-p256")
    certificate = trust.certify_key(key.id, department_code="scjg", usage="seal")
    response = scjg_client.post(f"/trust/keys/scjg/certificates/{certificate.serial}/revoke/",
                                {"reason": "superseded"})
    assert response.status_code == 403
    assert trust.get_certificate(certificate.serial).status == "valid"  # type: ignore[union-attr]
