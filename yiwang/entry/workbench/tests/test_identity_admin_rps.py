"""接入应用管理 on the workbench: registering, editing, rotating and disabling relying
parties, and who may manage which (department ownership, superusers, citizens)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from yiwang.entry.portal.testing import DEPARTMENT, PASSWORD, SmallCity, build_small_city
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions.testing import DISTRICT
from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db
OTHER = "test-00"


def grant(user: Any, *codenames: str) -> Any:
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(content_type__app_label="identity",
                                                         codename=codename))
    return get_user_model().objects.get(pk=user.pk)


def text(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def city() -> SmallCity:
    return build_small_city(departments=1)


@pytest.fixture
def rp_admin(city: SmallCity) -> Any:
    """An official of the city department who may manage relying parties."""
    return grant(city.official, "manage_relying_parties")


@pytest.fixture
def boss(city: SmallCity) -> Any:
    return identity.create_official("root", "超级管理员", password=PASSWORD, superuser=True)


def register(department: str, name: str = "示例业务系统", client_type: str = "confidential"
             ) -> tuple[Any, str | None]:
    return identity.register_relying_party(
        name=name, client_type=client_type, redirect_uris="https://app.example.gov.cn/cb",
        department_code=department, actor=None)


FORM = {
    "name": "城管业务系统", "description": "", "client_type": "confidential",
    "department_code": DEPARTMENT, "redirect_uris": "https://cg.example.gov.cn/oidc/callback\n"
    "https://cg.example.gov.cn/oidc/callback2",
    "post_logout_redirect_uris": "https://cg.example.gov.cn/", "backchannel_logout_uri":
    "https://cg.example.gov.cn/oidc/backchannel", "allowed_scopes": ["openid", "profile",
                                                                     "official"],
    "subject_type": "pairwise", "sector_identifier_uri": "", "min_level": "3",
}


# --- access ------------------------------------------------------------------------------

def test_access_rules(internal_client, city) -> None:
    rp, _secret = register(DEPARTMENT)
    paths = ["/relying-parties/", "/relying-parties/new/", f"/relying-parties/{rp.client_id}/"]
    for path in paths:
        assert internal_client.get(path).status_code == 302, path
    sign_in_client(internal_client, city.official)  # no permission yet
    for path in paths:
        assert internal_client.get(path).status_code == 403, path
    assert internal_client.post(f"/relying-parties/{rp.client_id}/active/",
                                {"active": "0"}).status_code == 403
    assert identity.get_relying_party(rp.client_id).active


def test_citizens_get_nothing(internal_client, city) -> None:
    citizen = get_user_model().objects.create_user(username="citizen", password=PASSWORD)
    sign_in_client(internal_client, citizen)
    assert internal_client.get("/relying-parties/").status_code == 403
    assert internal_client.post("/relying-parties/new/", FORM).status_code == 403


def test_another_departments_relying_party_is_out_of_reach(internal_client, rp_admin) -> None:
    mine, _ = register(DEPARTMENT, "本部门系统")
    theirs, _ = register(OTHER, "别的部门系统")
    platform, _ = register("", "平台系统")
    sign_in_client(internal_client, rp_admin)
    listing = text(internal_client.get("/relying-parties/"))
    assert "本部门系统" in listing and "别的部门系统" not in listing and "平台系统" not in listing
    assert internal_client.get(f"/relying-parties/{mine.client_id}/").status_code == 200
    for rp in (theirs, platform):
        base = f"/relying-parties/{rp.client_id}/"
        assert internal_client.get(base).status_code == 403
        assert internal_client.post(base, {**FORM, "department_code": DEPARTMENT}
                                    ).status_code == 403
        assert internal_client.post(f"{base}rotate-secret/").status_code == 403
        assert internal_client.post(f"{base}active/", {"active": "0"}).status_code == 403
        assert identity.get_relying_party(rp.client_id).active
    # Nor may it register one for another department.
    response = internal_client.post("/relying-parties/new/", {**FORM, "department_code": OTHER})
    assert response.status_code in (400, 403)
    assert not [r for r in identity.list_relying_parties(OTHER) if r.name == FORM["name"]]


def test_superusers_manage_every_relying_party(internal_client, boss) -> None:
    theirs, _ = register(OTHER, "别的部门系统")
    sign_in_client(internal_client, boss)
    assert "别的部门系统" in text(internal_client.get("/relying-parties/"))
    response = internal_client.post(f"/relying-parties/{theirs.client_id}/active/",
                                    {"active": "0"})
    assert response.status_code == 302
    assert not identity.get_relying_party(theirs.client_id).active


# --- register, edit, rotate, disable --------------------------------------------------------

def test_register_shows_the_secret_once(internal_client, rp_admin) -> None:
    sign_in_client(internal_client, rp_admin)
    assert internal_client.get("/relying-parties/new/").status_code == 200
    created = internal_client.post("/relying-parties/new/", FORM)
    assert created.status_code == 302  # post/redirect/get: reloading never registers twice
    response = internal_client.get(created["Location"])
    assert response.status_code == 200
    body = text(response)
    assert "密钥只显示这一次" in body
    (rp,) = identity.list_relying_parties(DEPARTMENT)
    secret = re.search(r'<code class="secret">([^<]+)</code>', body).group(1)
    assert rp.client_secret != secret  # stored hashed
    assert rp.subject_type == "pairwise" and rp.min_level == 3
    assert rp.redirect_uris.split() == ["https://cg.example.gov.cn/oidc/callback",
                                        "https://cg.example.gov.cn/oidc/callback2"]
    assert set(rp.allowed_scopes.split()) == {"openid", "profile", "official"}
    assert rp.backchannel_logout_uri == "https://cg.example.gov.cn/oidc/backchannel"
    assert not rp.first_party  # a department's official cannot skip consent
    page = text(internal_client.get(f"/relying-parties/{rp.client_id}/"))
    assert secret not in page
    again = internal_client.get(created["Location"])  # the secret page shows it once
    assert again.status_code == 302 and secret not in text(again)
    assert len(identity.list_relying_parties(DEPARTMENT)) == 1


def test_public_client_has_no_secret(internal_client, rp_admin) -> None:
    sign_in_client(internal_client, rp_admin)
    response = internal_client.post("/relying-parties/new/", {**FORM, "client_type": "public"},
                                    follow=True)
    assert "公开客户端没有密钥" in text(response)
    (rp,) = identity.list_relying_parties(DEPARTMENT)
    assert rp.client_type == "public"
    assert internal_client.post(f"/relying-parties/{rp.client_id}/rotate-secret/"
                                ).status_code == 404


@pytest.mark.parametrize(("change", "message"), [
    ({"redirect_uris": ""}, "请至少填写一个登录回调地址"),
    ({"redirect_uris": "ftp://x.example/cb"}, "不是有效的网址"),
    ({"redirect_uris": "http://evil.example/cb"}, "须使用 https"),
    ({"redirect_uris": "https://x.example/cb#frag"}, "#"),
    ({"allowed_scopes": ["profile"]}, "必须包含 openid"),
    ({"name": ""}, "请填写应用名称"),
    ({"min_level": "7"}, "选择一个有效的选项"),
])
def test_register_says_what_is_wrong(internal_client, rp_admin, change, message) -> None:
    sign_in_client(internal_client, rp_admin)
    response = internal_client.post("/relying-parties/new/", {**FORM, **change})
    assert response.status_code == 400
    assert message in text(response)
    assert identity.list_relying_parties(DEPARTMENT) == []


def test_edit_rotate_disable_enable(internal_client, rp_admin) -> None:
    rp, first_secret = register(DEPARTMENT)
    sign_in_client(internal_client, rp_admin)
    base = f"/relying-parties/{rp.client_id}/"
    response = internal_client.post(base, {**FORM, "name": "改名后的系统",
                                           "client_type": "public"})
    assert response.status_code == 302
    rp = identity.get_relying_party(rp.client_id)
    assert rp.name == "改名后的系统" and rp.client_type == "confidential"  # type is fixed
    response = internal_client.post(f"{base}rotate-secret/", follow=True)
    new_secret = re.search(r'<code class="secret">([^<]+)</code>', text(response)).group(1)
    assert new_secret != first_secret and "原密钥已经失效" in text(response)
    assert internal_client.post(f"{base}active/", {"active": "0"}).status_code == 302
    assert not identity.get_relying_party(rp.client_id).active
    assert "启用应用" in text(internal_client.get(base))
    internal_client.post(f"{base}active/", {"active": "1"})
    assert identity.get_relying_party(rp.client_id).active
    assert internal_client.get("/relying-parties/no-such-client/").status_code == 404


def test_the_pairwise_sector_is_shown_fixed_and_kept_on_edits(internal_client, rp_admin,
                                                               settings) -> None:
    sign_in_client(internal_client, rp_admin)
    form_page = text(internal_client.get("/relying-parties/new/"))
    assert "sector_identifier_uri" in form_page and "标识分区在登记时确定" in form_page
    # Redirect URIs on two hosts need a sector identifier document: said on its field.
    response = internal_client.post("/relying-parties/new/", {
        **FORM, "redirect_uris": "https://cg.example.gov.cn/cb\nhttps://cg2.example.gov.cn/cb"})
    assert response.status_code == 400
    assert "cg2.example.gov.cn" in text(response) and 'id="id_sector_identifier_uri_error"' \
        in text(response)
    assert internal_client.post("/relying-parties/new/", FORM).status_code == 302
    (rp,) = identity.list_relying_parties(DEPARTMENT)
    base = f"/relying-parties/{rp.client_id}/"
    page = text(internal_client.get(base))
    assert "<code>cg.example.gov.cn</code>" in page and "不可更改" in page
    # A redirect URI on another host is refused with the reason on the field; the sector
    # and so every sub stay as they were.
    response = internal_client.post(base, {**FORM, "redirect_uris": "https://x.example.gov.cn/cb"})
    assert response.status_code == 400
    assert 'id="id_redirect_uris_error"' in text(response) and "cg.example.gov.cn" in text(response)
    assert identity.get_relying_party(rp.client_id).sector == "cg.example.gov.cn"
    # The back-channel logout address may not point at the cloud metadata service.
    settings.YIWANG_OIDC_OUTBOUND_ALLOW = []
    response = internal_client.post(base, {**FORM,
                                           "backchannel_logout_uri": "https://169.254.169.254/x"})
    assert response.status_code == 400 and 'id="id_backchannel_logout_uri_error"' in text(response)
    assert "元数据" in text(response)  # refused as the metadata service, allow-list or not


def test_superuser_may_register_a_first_party_platform_app(internal_client, boss) -> None:
    sign_in_client(internal_client, boss)
    response = internal_client.post("/relying-parties/new/", {
        **FORM, "department_code": "", "first_party": "on"}, follow=True)
    assert response.status_code == 200
    (rp,) = [r for r in identity.list_relying_parties() if r.name == FORM["name"]]
    assert rp.first_party and rp.department_code == ""


def test_member_of_a_unit_manages_its_departments_apps(internal_client, city) -> None:
    orgs.create_department("unit-a", "信息科", region_code=DISTRICT, parent_code=OTHER)
    official = identity.create_official("unit-official", "科员", password=PASSWORD)
    orgs.add_member(official, "unit-a")  # a member of a unit (科室) of the department
    official = grant(official, "manage_relying_parties")
    theirs, _ = register(OTHER, "乙系统")
    sign_in_client(internal_client, official)
    assert internal_client.get(f"/relying-parties/{theirs.client_id}/").status_code == 200
    assert "乙系统" in text(internal_client.get("/relying-parties/"))
