"""防篡改账本 on the workbench: access rules, the overview, the lookup, the log page and the
on-demand actions (through the internal listener, as an official uses them)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from yiwang.enablement.ledger import service
from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def grant(user, *perms: str):  # type: ignore[no-untyped-def]
    for dotted in perms:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))
    return user


@pytest.fixture(autouse=True)
def ledger_settings(settings):  # type: ignore[no-untyped-def]
    settings.YIWANG_LEDGER_LOGS = ["main"]
    settings.YIWANG_LEDGER_ORIGIN = "ledger.test.gov.cn"
    settings.YIWANG_LEDGER_ANCHOR = "none"


@pytest.fixture
def departments():  # type: ignore[no-untyped-def]
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions.testing import CITY, make_chain

    make_chain(geometry=False)
    orgs.create_department("gaj", "公安局", region_code=CITY)


@pytest.fixture
def official():  # type: ignore[no-untyped-def]
    return identity.create_official("ledger.viewer", "张三", password="Ledger-pass-123")


@pytest.fixture
def entries() -> list:
    receipts = service.append_many([("licence.issued", {"licence": f"L-{i}"})
                                    for i in range(60)])
    service.publish_checkpoint()
    return receipts


def test_anonymous_visitors_are_sent_to_sign_in(internal_client) -> None:
    response = internal_client.get("/ledger/")
    assert response.status_code == 302 and "login" in response["Location"]
    assert internal_client.post("/ledger/publish/").status_code == 302


def test_a_citizen_account_is_refused(internal_client) -> None:
    citizen = get_user_model().objects.create_user("citizen1", password="Citizen-pass-123")
    sign_in_client(internal_client, citizen)
    assert internal_client.get("/ledger/").status_code == 403


def test_an_official_sees_logs_checkpoints_and_entries(internal_client, official,
                                                      entries) -> None:
    sign_in_client(internal_client, official)
    page = internal_client.get("/ledger/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "ledger.test.gov.cn/main" in text and "树大小 60" in text
    assert "立即发布检查点" not in text  # no manage permission
    log_page = internal_client.get("/ledger/main/").content.decode()
    assert entries[59].record_hash in log_page and entries[0].record_hash not in log_page
    older = internal_client.get("/ledger/main/", {"page": "2"}).content.decode()
    assert entries[0].record_hash in older
    assert internal_client.get("/ledger/main/", {"page": "x"}).status_code == 200
    assert internal_client.get("/ledger/nope/").status_code == 404


def test_lookup_by_record_hash_shows_a_verified_proof(internal_client, official,
                                                     entries) -> None:
    sign_in_client(internal_client, official)
    text = internal_client.get("/ledger/", {"log": "main",
                                            "hash": entries[17].record_hash}).content.decode()
    assert "包含证明已核验" in text and "与已签名的检查点一致" in text
    proof = service.inclusion_proof("main", 17)
    assert all(h in text for h in proof.hashes)
    missing = internal_client.get("/ledger/", {"hash": "ab" * 32}).content.decode()
    assert "没有这个哈希的条目" in missing
    bad = internal_client.get("/ledger/", {"hash": "xyz", "log": "nope"})
    assert bad.status_code == 200 and "error-message" in bad.content.decode()


def test_on_demand_actions_need_the_manage_permission(internal_client, official, departments,
                                                      entries) -> None:
    sign_in_client(internal_client, official)
    assert internal_client.post("/ledger/publish/").status_code == 403
    assert internal_client.post("/ledger/witness/").status_code == 403
    grant(official, "ledger.manage_ledger")
    service.append("seal.used", {"seal": "S1"})
    assert internal_client.post("/ledger/publish/").status_code == 302
    assert service.latest_checkpoint().size == 61
    service.enrol_witness("gaj")
    assert internal_client.post("/ledger/witness/").status_code == 302
    assert service.latest_checkpoint().cosigners == ["gaj"]
    assert "立即发布检查点" in internal_client.get("/ledger/").content.decode()
