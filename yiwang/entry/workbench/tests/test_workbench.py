"""The officials' workbench, through the internal listener (政务内网)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.views import View

from yiwang.entry.portal.testing import (
    DEPARTMENT,
    MEMBER_NAME,
    PASSWORD,
    SmallCity,
    build_small_city,
    html_lang,
    unlabelled_inputs,
)
from yiwang.entry.workbench import modules
from yiwang.entry.workbench.access import OfficialRequiredMixin, official_required
from yiwang.platform.regions.testing import CITY, COMMUNITY, DISTRICT
from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_client, sign_in_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def city() -> SmallCity:
    return build_small_city()


@pytest.fixture
def official_client(internal_client, city):  # type: ignore[no-untyped-def]
    sign_in_client(internal_client, city.official)
    return internal_client


def pages(city: SmallCity) -> list[str]:
    return [
        "/", "/regions/", f"/regions/{CITY}/", f"/regions/{COMMUNITY}/",
        f"/grids/{city.grids[0]}/", "/departments/", f"/departments/{DEPARTMENT}/",
        *[f"/unavailable/{slug}/" for slug in modules.UNBUILT],
    ]


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


# --- access ------------------------------------------------------------------------------

def test_every_page_sends_anonymous_visitors_to_sign_in(internal_client, city) -> None:
    for path in pages(city):
        response = internal_client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/login/?next="), path


def test_every_page_refuses_a_signed_in_non_official(internal_client, city) -> None:
    citizen = get_user_model().objects.create_user("zhang.san", password=PASSWORD)
    sign_in_client(internal_client, citizen)
    for path in pages(city):
        response = internal_client.get(path)
        assert response.status_code == 403, path
        html = text(response)
        assert "没有访问权限" in html
        assert "not an official" not in html  # the reason is not shown
        assert 'action="/logout/"' in html  # a way out, to sign in as someone else


def test_every_page_answers_an_official(official_client, city) -> None:
    for path in pages(city):
        response = official_client.get(path, follow=True)
        assert response.status_code == 200, path
        assert html_lang(text(response)) == "zh-Hans", path
        assert unlabelled_inputs(text(response)) == [], path
        english = official_client.get("/en" + path, follow=True)
        assert english.status_code == 200, path
        assert html_lang(text(english)) == "en", path


@pytest.fixture
def internal_urls(settings):  # type: ignore[no-untyped-def]
    """Views called directly (not through a listener) reverse in the internal zone."""
    settings.ROOT_URLCONF = "yiwang.urls.internal"
    with translation.override("zh-hans"):  # a previous test may leave English active
        yield


@pytest.mark.usefixtures("internal_urls")
def test_official_required_decorator() -> None:
    @official_required
    def view(request):  # type: ignore[no-untyped-def]
        return HttpResponse("ok")

    factory = RequestFactory()
    request = factory.get("/secret/?a=1")
    request.user = AnonymousUser()
    response = view(request)
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/secret/%3Fa%3D1"

    users = get_user_model().objects
    request.user = users.create_user("citizen", password=PASSWORD)
    with pytest.raises(PermissionDenied):
        view(request)

    request.user = users.create_user("inactive", password=PASSWORD, is_staff=True,
                                     is_active=False)
    with pytest.raises(PermissionDenied):
        view(request)

    official = identity.create_official("official", "官员", password=PASSWORD)
    # One factor is not enough for the workbench: back through sign-in, to step up.
    assert view(sign_in_request(factory.get("/secret/"), official, amr=("pwd",))
                ).status_code == 302
    assert view(sign_in_request(factory.get("/secret/"), official)).content == b"ok"


@pytest.mark.usefixtures("internal_urls")
def test_official_required_mixin() -> None:
    class Secret(OfficialRequiredMixin, View):
        def get(self, request):  # type: ignore[no-untyped-def]
            return HttpResponse("ok")

    request = RequestFactory().get("/secret/")
    request.user = AnonymousUser()
    assert Secret.as_view()(request).status_code == 302
    request.user = get_user_model().objects.create_user("citizen", password=PASSWORD)
    with pytest.raises(PermissionDenied):
        Secret.as_view()(request)
    official = identity.create_official("o", "官员", password=PASSWORD)
    request = sign_in_request(RequestFactory().get("/secret/"), official)
    assert Secret.as_view()(request).content == b"ok"


# --- sign in and out (OpenID Connect, through the provider in the public zone) -----------

def _follow_sign_in(internal_client, public_client, next_url="/departments/"):  # type: ignore[no-untyped-def]
    """Start at the workbench's sign-in, pass the provider, come back: the last response."""
    start = internal_client.get("/login/", {"next": next_url})
    assert start.status_code == 302
    authorize = urlsplit(start["Location"])
    assert authorize.path == "/oidc/authorize/"
    query = parse_qs(authorize.query)
    assert query["client_id"] == ["yiwang-workbench"] and query["acr_values"] == ["L3"]
    assert query["code_challenge_method"] == ["S256"]
    at_provider = public_client.get(authorize.path + "?" + authorize.query)
    if at_provider.status_code != 302 or "/oidc/callback/" not in at_provider["Location"]:
        return at_provider
    back = urlsplit(at_provider["Location"])
    return internal_client.get(back.path + "?" + back.query)


def test_sign_in_goes_through_the_provider_and_lands_on_next(internal_client, public_client,
                                                            city) -> None:
    official = get_user_model().objects.get(username="lin.xiaolan")
    sign_in_client(public_client, official)  # signed in at the provider with two factors
    response = _follow_sign_in(internal_client, public_client)
    assert response.status_code == 302 and response["Location"] == "/departments/"
    page = internal_client.get("/departments/")
    assert page.status_code == 200 and MEMBER_NAME in text(page)


def test_sign_in_page_explains_and_is_labelled(internal_client) -> None:
    page = internal_client.get("/login/")
    assert page.status_code == 302  # straight to the provider
    callback = internal_client.get("/oidc/callback/", {"state": "forged", "code": "x"})
    assert callback.status_code == 400
    assert "重新登录" in text(callback) and unlabelled_inputs(text(callback)) == []
    assert "_auth_user_id" not in internal_client.session


def test_an_anonymous_visitor_is_asked_to_sign_in_at_the_provider(internal_client,
                                                                  public_client) -> None:
    response = _follow_sign_in(internal_client, public_client)
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")
    assert "level=3" in response["Location"]


def test_one_factor_at_the_provider_is_stepped_up_not_refused(internal_client, public_client,
                                                             city) -> None:
    official = get_user_model().objects.get(username="lin.xiaolan")
    sign_in_client(public_client, official, amr=("sms",))
    response = _follow_sign_in(internal_client, public_client)
    assert response.status_code == 302
    assert response["Location"].startswith("/account/step-up/")
    assert "_auth_user_id" not in internal_client.session


def test_sign_in_refuses_a_non_official_account(internal_client, public_client) -> None:
    citizen = get_user_model().objects.create_user("zhang.san", password=PASSWORD,
                                                   verified_at=timezone.now())
    sign_in_client(public_client, citizen)
    response = _follow_sign_in(internal_client, public_client)
    assert response.status_code == 403
    assert "不是公职人员账户" in text(response)
    assert "_auth_user_id" not in internal_client.session
    assert public_client.get("/account/").status_code == 200  # still signed in at the portal


def test_sign_out_ends_the_session_everywhere(internal_client, public_client, city) -> None:
    official = get_user_model().objects.get(username="lin.xiaolan")
    sign_in_client(public_client, official)
    _follow_sign_in(internal_client, public_client)
    confirm = internal_client.get("/logout/")
    assert confirm.status_code == 200 and 'method="post"' in text(confirm)
    response = internal_client.post("/logout/")
    assert response.status_code == 200 and "已退出" in text(response)
    assert internal_client.get("/").status_code == 302
    # The portal (the provider's session) is signed out too.
    assert public_client.get("/account/").status_code == 302


# --- pages -------------------------------------------------------------------------------

def test_layout_shows_the_user_their_post_and_the_module_navigation(official_client) -> None:
    html = text(official_client.get("/"))
    header = html[:html.index("</header>")]
    assert MEMBER_NAME in header
    assert "示例市城市管理局 · 网格巡查员" in header
    assert 'action="/logout/" method="post"' in header
    assert '<a href="/en/" lang="en" hreflang="en">English</a>' in header  # language switch
    nav = html[html.index('class="wb-sidenav"'):html.index("</nav>", html.index("wb-sidenav"))]
    for module in modules.MODULES:
        if module.permission:  # 审计日志, 基础数据: not for an official without the permission
            assert str(module.name) not in nav
        elif module.built:
            assert str(module.name) in nav
            assert f'href="{reverse(module.url_name, urlconf="yiwang.urls.internal")}"' in nav
        else:
            assert str(module.name) in nav
            assert f'href="/unavailable/{module.slug}/"' in nav
    assert "/admin/" not in html  # not a superuser


def test_home_dashboard_counts_and_memberships(official_client) -> None:
    html = text(official_client.get("/"))
    assert f'<a href="/departments/{DEPARTMENT}/">示例市城市管理局</a> · 网格巡查员' in html
    assert "主要任职" in html
    for label, count in [("区县", 2), ("网格", 6), ("部门", 1)]:
        assert re.search(rf"<dt>{label}</dt><dd>{count}</dd>", html), label


def test_admin_link_for_superusers_only(internal_client, city) -> None:
    admin = identity.create_official("root", "管理员", password=PASSWORD, superuser=True)
    sign_in_client(internal_client, admin)
    html = text(internal_client.get("/"))
    assert 'href="/admin/"' in html
    assert internal_client.get("/admin/").status_code == 200


def test_member_names_are_shown_to_officials(official_client) -> None:
    html = text(official_client.get(f"/departments/{DEPARTMENT}/"))
    table = html[html.index("<h2>人员</h2>"):]
    assert f'<th scope="row">{MEMBER_NAME}</th>' in table
    assert "网格巡查员" in table


def test_department_members_are_paged(official_client, city) -> None:
    from yiwang.platform.orgs import service as orgs

    for n in range(55):
        user = identity.create_official(f"official{n:02d}", f"官员{n:02d}", password=PASSWORD)
        orgs.add_member(user, DEPARTMENT, position_code="inspector")
    first = text(official_client.get(f"/departments/{DEPARTMENT}/"))
    assert first.count('<th scope="row">官员') + first.count(f">{MEMBER_NAME}</th>") == 50
    second = text(official_client.get(f"/departments/{DEPARTMENT}/", {"page": 2}))
    assert second.count('<th scope="row">官员') + second.count(f">{MEMBER_NAME}</th>") == 6


def test_region_pages_share_the_map_with_workbench_links(official_client, city) -> None:
    html = text(official_client.get(f"/regions/{CITY}/"))
    assert f'href="/regions/{DISTRICT}/"><title>东城区</title>' in html
    assert f'<a href="/departments/{DEPARTMENT}/">示例市城市管理局</a>' in html  # 本级部门
    grids = text(official_client.get(f"/regions/{COMMUNITY}/"))
    assert len(re.findall(r'<a class="map-shape[^"]*" href="/grids/', grids)) == 6


def test_unknown_things_are_404(official_client) -> None:
    for path in ["/unavailable/nothing/", "/regions/339999000000/", "/departments/nope/",
                 "/grids/339901001001999/"]:
        response = official_client.get(path)
        assert response.status_code == 404, path
        assert "页面不存在" in text(response)


@pytest.mark.parametrize("path", ["/", "/regions/", "/departments/", "/unavailable/cases/"])
def test_workbench_is_not_served_on_the_public_listener(public_client, city, path) -> None:
    sign_in_client(public_client, city.official)
    response = public_client.get(path, follow=True)
    assert MEMBER_NAME not in text(response)
    assert "政务工作台" not in text(response)
    assert public_client.get("/login/").status_code == 404


def test_department_page_queries_do_not_grow_with_members(official_client, city,
                                                          django_assert_max_num_queries) -> None:
    from yiwang.platform.orgs import service as orgs

    for n in range(20):
        user = identity.create_official(f"extra{n:02d}", f"官员{n:02d}", password=PASSWORD)
        orgs.add_member(user, DEPARTMENT, position_code="inspector")
    # 10: the page's 8, and the user's and their groups' permissions (side navigation).
    with django_assert_max_num_queries(10):
        official_client.get(f"/departments/{DEPARTMENT}/")


# --- 403 ---------------------------------------------------------------------------------

def actions(html: str) -> str:
    start = html.index('<div class="form-actions">')
    return html[start:html.index("</div>", start)]


def test_an_official_lacking_a_permission_gets_the_workbench_403(internal_client, city) -> None:
    sign_in_client(internal_client, city.official)
    response = internal_client.get("/audit/")
    assert response.status_code == 403
    html = text(response)
    assert 'class="wb-header"' in html and 'class="wb-sidenav"' in html  # the workbench layout
    assert "您没有访问此页面的权限" in html and "请向本部门的系统管理员申请" in html
    assert "仅供公职人员使用" not in html  # the official is one
    assert "missing permission" not in html  # the reason is not shown
    buttons = actions(html)  # the way on and the way out, apart (a flex row with a gap)
    assert '<a href="/">返回工作台首页</a>' in buttons
    assert 'action="/logout/" method="post"' in buttons
    english = internal_client.get("/en/audit/")
    assert english.status_code == 403
    assert html_lang(text(english)) == "en"
    assert "You do not have permission to see this page." in text(english)
    assert '<a href="/en/">Back to the workbench home</a>' in actions(text(english))


def test_a_non_official_gets_the_officials_only_403_without_the_navigation(internal_client,
                                                                          city) -> None:
    citizen = get_user_model().objects.create_user("zhang.san", password=PASSWORD)
    sign_in_client(internal_client, citizen)
    response = internal_client.get("/")
    assert response.status_code == 403
    html = text(response)
    assert 'class="wb-header"' in html  # the workbench's header, not the portal's
    assert "wb-sidenav" not in html and "wb-menu-link" not in html
    assert "政务工作台仅供公职人员使用" in html
    assert "返回工作台首页" not in html  # it would refuse them again
    assert 'action="/logout/" method="post"' in actions(html)
    assert unlabelled_inputs(html) == []


# --- names in the page's language ----------------------------------------------------------

def test_english_workbench_pages_name_departments_and_regions_in_english(official_client,
                                                                         city) -> None:
    home = text(official_client.get("/en/"))
    header = home[:home.index("</header>")]
    assert "Urban Management Bureau · 网格巡查员" in header
    assert f'<a href="/en/departments/{DEPARTMENT}/">Urban Management Bureau</a>' in home
    assert re.search(r"<dt>Districts</dt><dd>2</dd>", home)
    region = text(official_client.get(f"/en/regions/{CITY}/"))
    assert f'<a href="/en/departments/{DEPARTMENT}/">Urban Management Bureau</a>' in region
    assert f'href="/en/regions/{DISTRICT}/"><title>Dongcheng District</title>' in region
    listing = text(official_client.get("/en/departments/"))
    row = listing[listing.index("<tbody>"):]
    assert "<td>Government department</td>" in row and "<td>Shili City</td>" in row
    grid = text(official_client.get(f"/en/grids/{city.grids[0]}/"))
    assert "<h1>Hupan Community Grid 1</h1>" in grid
    chinese = text(official_client.get(f"/departments/{DEPARTMENT}/"))
    assert "<h1>示例市城市管理局</h1>" in chinese


def test_department_positions_come_in_their_order(official_client, city) -> None:
    from yiwang.platform.orgs import service as orgs

    orgs.create_position(DEPARTMENT, "deputy", "副局长")
    orgs.create_position(DEPARTMENT, "head", "局长")
    orgs.order_positions(DEPARTMENT, ["head", "deputy"])  # 网格巡查员 has no place: last
    html = text(official_client.get(f"/en/departments/{DEPARTMENT}/"))
    table = html[html.index("<h2>Positions</h2>"):html.index("</table>")]
    assert table.index("局长") < table.index("副局长") < table.index("网格巡查员")
    assert '<th scope="col">Position</th>' in table
    assert '<div class="table-scroll" role="region" aria-label="Positions" tabindex="0">' in table
    chinese = text(official_client.get(f"/departments/{DEPARTMENT}/"))
    assert chinese.index('<th scope="row">局长</th>') < chinese.index(
        '<th scope="row">副局长</th>') < chinese.index('<th scope="row">网格巡查员</th>')
