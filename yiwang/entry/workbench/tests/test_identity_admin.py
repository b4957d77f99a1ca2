"""账户管理 on the workbench: who may use it, keyset paging, masked rows, audited reveal and
lookups, and the deprovisioning actions (POST with a reason, after confirmation)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from yiwang.core.audit import service as audit
from yiwang.core.crypto.service import blind_index
from yiwang.entry.portal.testing import PASSWORD, SmallCity, build_small_city
from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db
ID_NUMBER = "110101199003077774"


def grant(user: Any, *codenames: str) -> Any:
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="identity",
                                                         codename=codename))
    return get_user_model().objects.get(pk=user.pk)


def make_citizen(username: str, *, phone: str = "", id_number: str = "",
                 name: str = "张三丰") -> Any:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    user.display_name = name
    if phone:
        user.phone, user.phone_index = phone, blind_index(phone, "identity.phone")
        user.phone_verified_at = timezone.now()
    if id_number:
        user.id_number = id_number
        user.id_number_index = blind_index(id_number, "identity.id_number")
        user.real_name, user.level = name, 2
    user.save()
    return user


def text(response: Any) -> str:
    return response.content.decode()


def events(action: str) -> list[Any]:
    return list(audit.search(audit.AuditFilter(action=action)))


@pytest.fixture
def city() -> SmallCity:
    return build_small_city()


@pytest.fixture
def manager(city: SmallCity) -> Any:
    return grant(identity.create_official("acct-admin", "账户管理员", password=PASSWORD),
                 "manage_accounts")


@pytest.fixture
def target() -> Any:
    return make_citizen("zhangsanfeng", phone="13912345678", id_number=ID_NUMBER)


# --- access ------------------------------------------------------------------------------

def test_access_rules(internal_client, city, target) -> None:
    paths = ["/accounts/", f"/accounts/{target.pk}/", f"/accounts/{target.pk}/deactivate/"]
    for path in paths:
        assert internal_client.get(path).status_code == 302, path  # anonymous: sign in
    sign_in_client(internal_client, city.official)  # an official without the permission
    for path in paths:
        assert internal_client.get(path).status_code == 403, path
    assert internal_client.post(f"/accounts/{target.pk}/deactivate/",
                                {"reason": "x"}).status_code == 403
    target.refresh_from_db()
    assert target.is_active


def test_citizens_get_nothing(internal_client, target) -> None:
    other = make_citizen("curious")
    sign_in_client(internal_client, other)
    assert internal_client.get("/accounts/").status_code == 403
    assert internal_client.get(f"/accounts/{target.pk}/").status_code == 403


def test_menu_lists_the_module_only_to_holders(internal_client, city, manager) -> None:
    sign_in_client(internal_client, city.official)
    assert "/accounts/" not in text(internal_client.get("/"))
    sign_in_client(internal_client, manager)
    assert 'href="/accounts/"' in text(internal_client.get("/"))


# --- list ------------------------------------------------------------------------------------

def test_list_is_masked_and_pages_by_key(internal_client, manager, target, monkeypatch) -> None:
    from yiwang.entry.workbench import views_identity

    monkeypatch.setattr(views_identity, "ROWS_PER_PAGE", 2)
    for n in range(3):
        make_citizen(f"user{n}")
    sign_in_client(internal_client, manager)
    page = text(internal_client.get("/accounts/"))
    assert "139****5678" not in page  # zhangsanfeng is not among the newest two
    assert "user2" in page and "user1" in page and "下一页" in page and "上一页" not in page
    assert "约 " in page
    second = internal_client.get("/accounts/", {"after_id": get_user_model().objects.get(
        username="user1").pk})
    body = text(second)
    assert "user0" in body and "zhangsanfeng" in body and "上一页" in body
    assert "张**" in body and "139****5678" in body and "13912345678" not in body
    assert "张三丰" not in body


def test_prefix_search_and_filters(internal_client, manager, target) -> None:
    make_citizen("zhangwei")
    make_citizen("lisi")
    sign_in_client(internal_client, manager)
    body = text(internal_client.get("/accounts/", {"q": "zhang"}))
    assert "zhangsanfeng" in body and "zhangwei" in body and "lisi" not in body
    body = text(internal_client.get("/accounts/", {"level": "2", "type": "citizen"}))
    assert "zhangsanfeng" in body and "zhangwei" not in body
    body = text(internal_client.get("/accounts/", {"q": "nobody-like-this"}))
    assert "没有找到符合条件的账户" in body
    assert internal_client.get("/accounts/", {"after_id": "abc"}).status_code == 200
    assert internal_client.get("/accounts/", {"level": "9"}).status_code == 200


def test_numbers_are_not_searched_through_urls(internal_client, manager, target) -> None:
    sign_in_client(internal_client, manager)
    body = text(internal_client.get("/accounts/", {"q": "13912345678"}))
    assert "按号码查找" in body and "zhangsanfeng" not in body
    response = internal_client.post("/accounts/", {"number": "139 1234 5678"})
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/{target.pk}/"
    response = internal_client.post("/accounts/", {"number": ID_NUMBER})
    assert response["Location"] == f"/accounts/{target.pk}/"
    response = internal_client.post("/accounts/", {"number": "13900000000"})
    assert response.status_code == 400 and "没有找到使用这个号码的账户" in text(response)
    response = internal_client.post("/accounts/", {"number": "110101199003077777"})
    assert "校验位错误" in text(response)
    assert len(events("identity.account_lookup")) == 3


# --- detail and reveal -------------------------------------------------------------------

def test_detail_is_masked_and_reveal_needs_the_permission(internal_client, manager, target
                                                          ) -> None:
    sign_in_client(internal_client, manager)
    body = text(internal_client.get(f"/accounts/{target.pk}/"))
    assert "139****5678" in body and ID_NUMBER not in body and "110101********7774" in body
    assert "您没有查看完整个人信息的权限" in body
    assert internal_client.post(f"/accounts/{target.pk}/",
                                {"purpose": "核验身份"}).status_code == 403
    assert not events("personal_data.read")
    assert internal_client.get("/accounts/999999/").status_code == 404


def test_reveal_with_a_purpose_is_audited(internal_client, manager, target) -> None:
    revealer = grant(manager, "reveal_accounts")
    sign_in_client(internal_client, revealer)
    response = internal_client.post(f"/accounts/{target.pk}/", {"purpose": " "})
    assert "请填写事由" in text(response)
    response = internal_client.post(f"/accounts/{target.pk}/", {"purpose": "办理信访件"})
    body = text(response)
    assert ID_NUMBER in body and "13912345678" in body
    (event,) = events("personal_data.read")
    assert event.detail["purpose"] == "办理信访件" and event.object_id == str(target.pk)
    assert response["Cache-Control"].startswith("max-age=0")


# --- actions ------------------------------------------------------------------------------

def test_deactivate_after_confirmation(internal_client, manager, target) -> None:
    sign_in_client(internal_client, manager)
    confirm = internal_client.get(f"/accounts/{target.pk}/deactivate/")
    assert confirm.status_code == 200 and "确认停用" in text(confirm)
    assert internal_client.post(f"/accounts/{target.pk}/deactivate/",
                                {"reason": ""}).status_code == 400
    response = internal_client.post(f"/accounts/{target.pk}/deactivate/",
                                    {"reason": "本人申请注销"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert not target.is_active
    assert "已停用" in text(internal_client.get(f"/accounts/{target.pk}/"))
    response = internal_client.post(f"/accounts/{target.pk}/reactivate/", {"reason": "误操作"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.is_active
    assert internal_client.get(f"/accounts/{target.pk}/explode/").status_code == 404


def test_deactivation_signs_the_person_out_at_once(internal_client, public_client, manager,
                                                   target) -> None:
    sign_in_client(public_client, target)
    assert public_client.get("/account/enterprise/").status_code == 200
    sign_in_client(internal_client, manager)
    internal_client.post(f"/accounts/{target.pk}/deactivate/", {"reason": "账户被盗用"})
    assert public_client.get("/account/enterprise/").status_code == 302


def test_sign_out_everywhere_and_reset_mfa(internal_client, public_client, manager, target
                                           ) -> None:
    session = sign_in_client(public_client, target)  # the person, in the portal
    sign_in_client(internal_client, manager)
    internal_client.post(f"/accounts/{target.pk}/sign-out/", {"reason": "设备丢失"})
    session.refresh_from_db()
    assert session.ended_at is not None
    response = internal_client.post(f"/accounts/{target.pk}/reset-mfa/",
                                    {"reason": "手机丢失，已核验身份"})
    assert response.status_code == 302
    assert events("identity.mfa_reset")


def test_no_action_on_oneself_or_on_a_superuser(internal_client, manager) -> None:
    boss = identity.create_official("boss", "超级管理员", password=PASSWORD, superuser=True)
    sign_in_client(internal_client, manager)
    response = internal_client.post(f"/accounts/{manager.pk}/deactivate/", {"reason": "x"})
    assert response.status_code == 400 and "不能对自己的账户执行此操作" in text(response)
    response = internal_client.post(f"/accounts/{boss.pk}/deactivate/", {"reason": "x"})
    assert response.status_code == 400 and "只有超级管理员" in text(response)
    boss.refresh_from_db()
    assert boss.is_active


def test_english(internal_client, manager, target) -> None:
    sign_in_client(internal_client, manager)
    assert internal_client.get("/en/accounts/").status_code == 200


def test_odd_page_keys_are_ignored_not_500(internal_client, manager) -> None:
    sign_in_client(internal_client, manager)
    for value in ("²", "١٢", "-1", "9" * 40, "abc"):
        assert internal_client.get("/accounts/", {"after_id": value}).status_code == 200
