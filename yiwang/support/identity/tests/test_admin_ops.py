"""Account administration (账户管理): keyset search, masked rows, audited reveal and lookups,
deprovisioning, and who may manage a relying party."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions.testing import CITY, make_chain
from yiwang.support.identity import admin_ops
from yiwang.support.identity import service as identity
from yiwang.support.identity.models import AccountSession, AccountType, TotpDevice, User
from yiwang.support.identity.sessions import new_sid
from yiwang.support.identity.tests.test_enterprise_helpers import PASSWORD, citizen

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


@pytest.fixture
def admin() -> Any:
    user = identity.create_official("admin", "管理员", password=PASSWORD)
    user.user_permissions.add(Permission.objects.get(codename="manage_accounts"))
    return User.objects.get(pk=user.pk)


def many(n: int, prefix: str = "user", **kwargs: Any) -> list[User]:
    return [citizen(f"{prefix}{i:03d}", level=1, **kwargs) for i in range(n)]


def events(action: str) -> list[audit.AuditEvent]:
    return list(audit.search(audit.AuditFilter(action=action)))


def live_session(user: Any) -> AccountSession:
    return AccountSession.objects.create(sid=new_sid(), user=user, auth_time=timezone.now(),
                                         acr=1, amr=["pwd"])


# --- search ------------------------------------------------------------------------------------

def test_keyset_pages_newest_first_both_ways(admin: Any) -> None:
    users = many(12)
    ids = sorted([u.pk for u in users] + [admin.pk], reverse=True)
    first = identity.search_accounts(limit=5)
    assert [r.id for r in first.rows] == ids[:5]
    assert first.previous_key is None and first.next_key == {"after_id": ids[4]}
    assert first.approximate_total == 13
    second = identity.search_accounts(limit=5, **first.next_key)
    assert [r.id for r in second.rows] == ids[5:10]
    assert second.previous_key == {"before_id": ids[5]}
    third = identity.search_accounts(limit=5, **second.next_key)
    assert [r.id for r in third.rows] == ids[10:]
    assert third.next_key is None
    back = identity.search_accounts(limit=5, **third.previous_key)
    assert [r.id for r in back.rows] == ids[5:10]
    assert back.next_key == {"after_id": ids[9]}
    assert identity.search_accounts(limit=5, **back.previous_key).rows == first.rows


def test_a_page_is_one_query_and_never_counts(admin: Any) -> None:
    many(8)
    identity.search_accounts(limit=3)  # counts once, then the count is cached
    with CaptureQueriesContext(connection) as first:
        page = identity.search_accounts(limit=3)
    assert len(first.captured_queries) == 1
    with CaptureQueriesContext(connection) as deep:
        identity.search_accounts(limit=3, **page.next_key)
    (query,) = deep.captured_queries
    sql = query["sql"].upper()
    assert "OFFSET" not in sql and "COUNT(" not in sql
    assert "LIMIT 4" in sql


def test_filters_combine_with_paging(admin: Any) -> None:
    many(4)
    verified = [citizen(f"v{i}") for i in range(3)]
    User.objects.filter(pk=verified[0].pk).update(is_active=False)
    page = identity.search_accounts(level=2, account_type=AccountType.CITIZEN)
    assert [r.id for r in page.rows] == [u.pk for u in reversed(verified)]
    assert [r.id for r in identity.search_accounts(active=False).rows] == [verified[0].pk]
    assert [r.id for r in identity.search_accounts(account_type="official").rows] == [admin.pk]
    assert identity.search_accounts(level=2, limit=2).approximate_total == 4  # admin is L2
    with pytest.raises(ValueError, match="account type"):
        identity.search_accounts(account_type="robot")


def test_rows_are_masked(admin: Any) -> None:
    citizen("wang", real_name="王小明", phone="13912345678")
    row = next(r for r in identity.search_accounts().rows if r.username == "wang")
    assert row.name == "王**" and row.phone == "139****5678"
    official = next(r for r in identity.search_accounts().rows if r.username == "admin")
    assert official.name == "管理员"  # officials' names are not masked


def test_username_prefix_search_pages_by_name(admin: Any) -> None:
    many(7, prefix="zhang")
    many(3, prefix="zhao")
    page = identity.search_accounts(q="zhang", limit=3)
    assert page.order == "username" and page.lookup == "username"
    assert [r.username for r in page.rows] == ["zhang000", "zhang001", "zhang002"]
    assert page.approximate_total is None
    page2 = identity.search_accounts(q="zhang", limit=3, **page.next_key)
    assert [r.username for r in page2.rows] == ["zhang003", "zhang004", "zhang005"]
    page3 = identity.search_accounts(q="zhang", limit=3, **page2.next_key)
    assert [r.username for r in page3.rows] == ["zhang006"] and page3.next_key is None
    back = identity.search_accounts(q="zhang", limit=3, **page3.previous_key)
    assert back.rows == page2.rows
    assert [r.username for r in identity.search_accounts(q="zhao001").rows] == ["zhao001"]
    assert identity.search_accounts(q="zhb").rows == []


def test_exact_phone_and_id_number_through_blind_indexes(admin: Any) -> None:
    target = citizen("target", phone="13800001111")
    citizen("other", phone="13800002222")
    assert [r.id for r in identity.search_accounts(q="138 0000 1111").rows] == [target.pk]
    assert [r.id for r in identity.search_accounts(q="+8613800001111").rows] == [target.pk]
    assert [r.id for r in identity.search_accounts(q=target.id_number).rows] == [target.pk]
    bad = target.id_number[:17] + ("0" if target.id_number[17] != "0" else "1")
    page = identity.search_accounts(q=bad)
    assert page.lookup == "id_number" and page.rows == []


def test_find_account_is_audited(admin: Any) -> None:
    target = citizen("target", phone="13800001111")
    assert identity.find_account("13800001111", actor=admin) == target
    assert identity.find_account("13800009999", actor=admin) is None
    assert [e.detail["found"] for e in events("identity.account_lookup")] == [False, True]
    assert "13800001111" not in str([e.detail for e in events("identity.account_lookup")])
    with pytest.raises(ValidationError):
        identity.find_account("zhangsan", actor=admin)


# --- detail, reveal ------------------------------------------------------------------------

def test_detail_is_masked_and_audited(admin: Any) -> None:
    target = citizen("target", real_name="李四", phone="13800001111")
    live_session(target)
    detail = identity.account_detail(target.pk, actor=admin)
    assert detail is not None
    assert detail.masked["phone"] == "138****1111"
    assert detail.masked["id_number"].count("*") == 8
    assert len(detail.sessions) == 1
    assert events("identity.account_viewed")[0].actor_label == "admin"
    assert identity.account_detail(999_999, actor=admin) is None


def test_reveal_needs_a_purpose_and_is_recorded(admin: Any) -> None:
    target = citizen("target", phone="13800001111")
    with pytest.raises(ValidationError):
        identity.reveal_account(target, ["phone"], purpose=" ", actor=admin)
    shown = identity.reveal_account(target, ["phone", "id_number"], purpose="核验身份",
                                    actor=admin)
    assert shown == {"phone": "13800001111", "id_number": target.id_number}
    (event,) = events("personal_data.read")
    assert event.detail["fields"] == ["id_number", "phone"]
    assert event.detail["purpose"] == "核验身份"
    with pytest.raises(ValueError, match="password"):
        identity.reveal_account(target, ["password"], purpose="x", actor=admin)


# --- deprovisioning ------------------------------------------------------------------------

def test_deactivate_ends_sessions_and_is_audited(admin: Any) -> None:
    target = citizen("target")
    session = live_session(target)
    identity.deactivate_account(target, actor=admin, reason="离职")
    target.refresh_from_db()
    session.refresh_from_db()
    assert not target.is_active
    assert session.ended_at is not None and session.end_reason == "deprovisioned"
    (event,) = events("identity.account_deactivated")
    assert event.detail["reason"] == "离职" and event.detail["sessions_ended"] == 1
    with pytest.raises(ValidationError):
        identity.deactivate_account(target, actor=admin, reason="again")
    identity.reactivate_account(target, actor=admin, reason="复职")
    target.refresh_from_db()
    assert target.is_active
    session.refresh_from_db()
    assert session.ended_at is not None  # reactivation does not bring sessions back


def test_deactivate_revokes_tokens_when_the_provider_offers_it(admin: Any, monkeypatch) -> None:
    calls: list[tuple[Any, str]] = []
    monkeypatch.setattr(admin_ops, "revoke_tokens",
                        lambda user, *, reason: calls.append((user, reason)) or 3)
    target = citizen("target")
    identity.deactivate_account(target, actor=admin, reason="离职")
    assert [(user.pk, reason) for user, reason in calls] == [(target.pk, "deprovisioned")]
    assert events("identity.account_deactivated")[0].detail["tokens_revoked"] == 3


def test_guards(admin: Any) -> None:
    boss = identity.create_official("boss", "超级管理员", password=PASSWORD, superuser=True)
    with pytest.raises(ValidationError):
        identity.deactivate_account(admin, actor=admin, reason="试试")
    with pytest.raises(PermissionDenied):
        identity.deactivate_account(boss, actor=admin, reason="夺权")
    with pytest.raises(ValidationError):
        identity.deactivate_account(citizen("x"), actor=admin, reason="")
    identity.deactivate_account(admin, actor=boss, reason="调岗")


def test_sign_out_everywhere_and_reset_factors(admin: Any) -> None:
    target = citizen("target")
    live_session(target)
    live_session(target)
    assert identity.end_account_sessions(target, actor=admin, reason="设备丢失") == 2
    assert not AccountSession.objects.filter(user=target, ended_at__isnull=True).exists()
    TotpDevice.objects.create(user=target, name="手机", secret="JBSWY3DPEHPK3PXP",
                              confirmed_at=timezone.now())
    identity.reset_account_factors(target, actor=admin, reason="手机丢失，已核验身份")
    assert not TotpDevice.objects.filter(user=target).exists()
    assert events("identity.account_factors_reset")[0].detail["reason"].startswith("手机丢失")


# --- relying parties ---------------------------------------------------------------------

def test_who_may_manage_a_relying_party() -> None:
    make_chain()
    orgs.create_department("dept-a", "甲局", region_code=CITY)
    orgs.create_department("dept-b", "乙局", region_code=CITY)
    official = identity.create_official("rp-admin", "应用管理员", password=PASSWORD)
    orgs.add_member(official, "dept-a")
    boss = identity.create_official("root", "超级管理员", password=PASSWORD, superuser=True)

    class Rp:
        def __init__(self, code: str) -> None:
            self.department_code = code

    assert not identity.may_manage_relying_party(official, Rp("dept-a"))  # no permission yet
    official.user_permissions.add(Permission.objects.get(codename="manage_relying_parties"))
    official = User.objects.get(pk=official.pk)
    assert identity.may_manage_relying_party(official, Rp("dept-a"))
    assert not identity.may_manage_relying_party(official, Rp("dept-b"))
    assert not identity.may_manage_relying_party(official, Rp(""))
    assert identity.may_manage_relying_party(boss, Rp("dept-b"))
    assert identity.may_manage_relying_party(boss, Rp(""))


def test_deprovisioning_an_official_revokes_their_tokens_at_once(admin: Any) -> None:
    from datetime import timedelta

    from oauth2_provider.models import AccessToken, RefreshToken

    official = identity.create_official("leaver", "离职人员", password=PASSWORD)
    rp, _secret = identity.register_relying_party(
        name="业务系统", client_type="confidential",
        redirect_uris="https://app.example.gov.cn/cb", actor=None)
    access = AccessToken.objects.create(user=official, application=rp, token="access-1",
                                        expires=timezone.now() + timedelta(minutes=10),
                                        scope="openid")
    RefreshToken.objects.create(user=official, application=rp, token="refresh-1",
                                access_token=access)
    identity.deactivate_account(official, actor=admin, reason="离职")
    assert not AccessToken.objects.filter(user=official).exists()
    assert RefreshToken.objects.get(token="refresh-1").revoked is not None
    (event,) = events("identity.account_deactivated")
    assert event.detail["tokens_revoked"] >= 2
