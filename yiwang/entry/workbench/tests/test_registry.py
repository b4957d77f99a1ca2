"""基础数据 on the workbench: the population and legal-entity registries, masked, with the
audited reveal of a person's full data, and who may see what."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from yiwang.core.audit import service as audit
from yiwang.core.identifiers.service import generate_credit_code, generate_synthetic_id_number
from yiwang.core.masking.service import mask_name
from yiwang.demo import loader
from yiwang.entry.portal.testing import (
    OTHER_DISTRICT,
    PASSWORD,
    SmallCity,
    build_small_city,
    unlabelled_inputs,
)
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions.testing import CITY, COMMUNITY, DISTRICT, STREET
from yiwang.platform.registry import service as registry
from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db

READ = ("registry.view_person", "registry.view_enterprise")
REVEAL = "registry.change_person"


def grant(user: Any, *perms: str) -> Any:
    for dotted in perms:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label,
                                                         codename=codename))
    return user


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


@dataclass
class People:
    rows: list[registry.PersonRow]
    enterprise: Any

    def person(self, n: int = 0) -> Any:
        return registry.find_person(self.rows[n].id_number)


def make_people(city: SmallCity, n: int = 3) -> People:
    rng = random.Random(11)
    rows = [registry.PersonRow(
        name=f"测试{chr(0x4E00 + i)}人", id_number=generate_synthetic_id_number(rng, DISTRICT[:6]),
        phone=f"139{i:08d}", address=f"示例省示例市东城区东湖街道湖畔路{i + 1}号",
        region_code=COMMUNITY, grid_code=city.grids[i % len(city.grids)], synthetic=True,
    ) for i in range(n)]
    registry.load_persons(rows)
    enterprise = registry.register_enterprise(
        credit_code=generate_credit_code(DISTRICT[:6], rng=rng), name="示例市湖畔科技有限公司",
        kind="有限责任公司", legal_representative=registry.find_person(rows[0].id_number),
        region_code=STREET, address="示例市东城区湖畔路 8 号", industry="软件和信息技术服务业",
    )
    return People(rows, enterprise)


@pytest.fixture
def city() -> SmallCity:
    return build_small_city()


@pytest.fixture
def people(city: SmallCity) -> People:
    return make_people(city)


@pytest.fixture
def reader(city: SmallCity) -> Any:
    """An official who may look people and enterprises up, masked."""
    return grant(identity.create_official("reader", "查询员", password=PASSWORD), *READ)


@pytest.fixture
def officer(city: SmallCity) -> Any:
    """An officer of the registry: may also show a person's full data."""
    return grant(identity.create_official("officer", "登记员", password=PASSWORD), *READ, REVEAL)


def reveals() -> list[audit.AuditEvent]:
    return list(audit.search(audit.AuditFilter(action="personal_data.read")))


# --- access ------------------------------------------------------------------------------

def paths(people: People) -> list[str]:
    return ["/registry/persons/", f"/registry/persons/{people.person().pk}/",
            "/registry/enterprises/", f"/registry/enterprises/{people.enterprise.credit_code}/"]


def test_officials_without_the_permissions_get_403(internal_client, city, people) -> None:
    for path in paths(people):
        assert internal_client.get(path).status_code == 302, path  # anonymous: sign in
    sign_in_client(internal_client, city.official)
    for path in paths(people):
        assert internal_client.get(path).status_code == 403, path
    person = people.person()
    response = internal_client.post(f"/registry/persons/{person.pk}/", {"purpose": "好奇"})
    assert response.status_code == 403
    assert not reveals()


def test_enterprises_need_their_own_permission(internal_client, city, people) -> None:
    sign_in_client(internal_client, grant(identity.create_official("p", "人口", password=PASSWORD),
                                      "registry.view_person"))
    assert internal_client.get("/registry/persons/").status_code == 200
    assert 'href="/registry/enterprises/"' not in text(internal_client.get("/registry/persons/"))
    assert internal_client.get("/registry/enterprises/").status_code == 403
    sign_in_client(internal_client, grant(identity.create_official("e", "法人", password=PASSWORD),
                                      "registry.view_enterprise"))
    assert internal_client.get("/registry/enterprises/").status_code == 200
    assert internal_client.get("/registry/persons/").status_code == 403


def test_the_side_navigation_links_the_registries_for_readers_only(internal_client, city,
                                                                    reader) -> None:
    sign_in_client(internal_client, city.official)
    assert "/registry/" not in text(internal_client.get("/"))
    sign_in_client(internal_client, reader)
    html = text(internal_client.get("/"))
    assert '<a href="/registry/persons/">基础数据</a>' in html


@pytest.mark.parametrize("path", ["/registry/persons/", "/registry/enterprises/",
                                  "/registry/persons/1/"])
def test_registries_are_not_served_on_the_public_listener(public_client, reader, path) -> None:
    sign_in_client(public_client, reader)
    assert public_client.get(path).status_code == 404


def test_demo_groups_open_the_population_registry_to_gaj_and_zwfw_only(internal_client, city,
                                                                         people) -> None:
    for code, name in [("gaj", "公安局"), ("zwfw", "政务服务中心"), ("cgj", "城管局")]:
        orgs.create_department(code, name, region_code=CITY)
        orgs.create_position(code, "clerk", "工作人员")
        user = identity.create_official(f"{code}.clerk1", f"{name}职员", password=PASSWORD)
        orgs.add_member(user, code, position_code="clerk", primary=True)
    auditor = identity.create_official(loader.AUDITOR, "审计员", password=PASSWORD)
    orgs.add_member(auditor, "zwfw", position_code="clerk", primary=True)
    identity.create_official("admin", "系统管理员", password=PASSWORD, superuser=True)
    loader.load_groups()
    loader.load_groups()  # idempotent
    users = {u.username: u for u in get_user_model().objects.all()}
    person = people.person()
    for username, status in [("gaj.clerk1", 200), ("zwfw.clerk1", 200), ("cgj.clerk1", 403),
                             (loader.AUDITOR, 403)]:
        sign_in_client(internal_client, users[username])
        for path in ["/registry/persons/", f"/registry/persons/{person.pk}/"]:
            assert internal_client.get(path).status_code == status, (username, path)
    assert users["gaj.clerk1"].has_perm(REVEAL)
    assert not users["cgj.clerk1"].has_perm("registry.view_enterprise")
    sign_in_client(internal_client, users[loader.AUDITOR])
    assert internal_client.get("/audit/").status_code == 200
    sign_in_client(internal_client, users["cgj.clerk1"])
    assert internal_client.get("/audit/").status_code == 403
    assert sorted(users["admin"].groups.values_list("name", flat=True)) == [loader.AUDITORS]


# --- the population registry -------------------------------------------------------------

def test_list_shows_masked_data_only(internal_client, reader, people) -> None:
    sign_in_client(internal_client, reader)
    response = internal_client.get("/registry/persons/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = text(response)
    assert unlabelled_inputs(html) == []
    for row in people.rows:
        assert row.id_number not in html
        assert row.id_number[6:14] not in html  # the birth date
        assert row.phone not in html
        assert row.name not in html
        assert row.address not in html
        assert f"{row.id_number[:6]}********{row.id_number[-4:]}" in html
        assert f"{row.phone[:3]}****{row.phone[-4:]}" in html
        assert f">{mask_name(row.name)}</a>" in html
    assert "湖畔社区" in html and "第1网格" in html
    assert internal_client.get("/en/registry/persons/").status_code == 200


def test_search_by_name_and_region(internal_client, reader, people) -> None:
    sign_in_client(internal_client, reader)

    def found(**query: str) -> int:
        response = internal_client.get("/registry/persons/", query)
        assert response.status_code == 200
        return text(response).count('<th scope="row"><a href="/registry/persons/')

    assert found() == 3
    assert found(q=people.rows[1].name) == 1
    assert found(q="测试") == 3
    assert found(q="没有这个人") == 0
    assert found(region=DISTRICT) == 3
    assert found(region=STREET) == 3
    assert found(region=OTHER_DISTRICT) == 0
    html = text(internal_client.get("/registry/persons/", {"region": "339901999"}))
    assert 'class="error-summary"' in html  # not one of the choices: a field error
    empty = text(internal_client.get("/registry/persons/", {"q": "没有这个人"}))
    assert "没有找到符合条件的人员" in empty


def test_region_choices_are_the_districts_and_their_streets(internal_client, reader) -> None:
    sign_in_client(internal_client, reader)
    html = text(internal_client.get("/registry/persons/"))
    assert '<optgroup label="东城区">' in html
    assert f'<option value="{DISTRICT}">东城区(全区)</option>' in html
    assert f'<option value="{STREET}">东湖街道</option>' in html
    assert '<optgroup label="西城区">' in html


def test_lookup_by_id_number_is_a_post_that_opens_the_person(internal_client, reader,
                                                             people) -> None:
    sign_in_client(internal_client, reader)
    row = people.rows[2]
    response = internal_client.post("/registry/persons/", {"id_number": row.id_number.lower()})
    assert response.status_code == 302
    assert response["Location"] == f"/registry/persons/{people.person(2).pk}/"
    lookups = list(audit.search(audit.AuditFilter(action="registry.person.lookup")))
    assert len(lookups) == 1
    assert lookups[0].object_id == str(people.person(2).pk)
    assert row.id_number not in str(lookups[0].detail)

    unknown = generate_synthetic_id_number(random.Random(99), "110101")
    response = internal_client.post("/registry/persons/", {"id_number": unknown})
    assert response.status_code == 200
    assert "人口库中没有这个公民身份号码" in text(response)
    response = internal_client.post("/registry/persons/", {"id_number": "123"})
    assert response.status_code == 200
    assert "公民身份号码为 18 位" in text(response)
    wrong_check = row.id_number[:17] + ("1" if row.id_number[-1] == "0" else "0")
    response = internal_client.post("/registry/persons/", {"id_number": wrong_check})
    assert "校验位错误" in text(response)  # the message names the failing part


def test_persons_are_paged_by_fifty_keeping_the_filters(internal_client, reader, city) -> None:
    make_people(city, 55)
    sign_in_client(internal_client, reader)
    first = text(internal_client.get("/registry/persons/", {"region": DISTRICT}))
    assert first.count('<th scope="row"><a href="/registry/persons/') == 50
    assert f'href="?region={DISTRICT}&amp;page=2"' in first
    second = text(internal_client.get("/registry/persons/", {"region": DISTRICT, "page": 2}))
    assert second.count('<th scope="row"><a href="/registry/persons/') == 5


def test_person_page_is_masked_by_default(internal_client, reader, people) -> None:
    sign_in_client(internal_client, reader)
    row, person = people.rows[0], people.person()
    response = internal_client.get(f"/registry/persons/{person.pk}/")
    assert response.status_code == 200
    html = text(response)
    assert row.id_number not in html and row.phone not in html and row.address not in html
    assert "示例省示例市东城区****" in html
    assert "湖畔社区" in html
    assert "您没有查看完整个人信息的权限" in html  # the reader may not reveal
    assert 'name="purpose"' not in html
    assert internal_client.post(f"/registry/persons/{person.pk}/",
                                {"purpose": "核查登记信息"}).status_code == 403
    assert not reveals()
    assert internal_client.get("/registry/persons/999999/").status_code == 404


def test_reveal_needs_a_purpose_shows_the_full_data_once_and_is_audited(internal_client,
                                                                        officer, people) -> None:
    sign_in_client(internal_client, officer)
    row, person = people.rows[0], people.person()
    url = f"/registry/persons/{person.pk}/"
    page = text(internal_client.get(url))
    assert unlabelled_inputs(page) == []
    assert 'list="reveal-purposes"' in page and 'maxlength="200"' in page

    for purpose in ["", "   ", "长" * 201]:
        response = internal_client.post(url, {"purpose": purpose})
        assert response.status_code == 200
        assert 'id="id_purpose_error"' in text(response)
        assert row.id_number not in text(response)
    assert not reveals()

    response = internal_client.post(url, {"purpose": "  办理信访件,\n联系信访人 "})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = text(response)
    for value in [row.name, row.id_number, row.phone, row.address]:
        assert value in html
    assert "正在显示完整信息" in html
    (event,) = reveals()
    assert event.personal_data
    assert event.actor_label == "officer"
    assert (event.object_type, event.object_id) == ("registry.person", str(person.pk))
    assert event.detail == {"fields": ["address", "id_number", "name", "phone"],
                            "purpose": "办理信访件, 联系信访人"}
    # Nothing is kept: the next page is masked again, and the session holds no personal data.
    again = text(internal_client.get(url))
    assert row.id_number not in again
    assert row.id_number not in str(dict(internal_client.session))
    # The auditor sees the reveal with its purpose.
    grant(officer, "audit.view_auditevent")
    log = text(internal_client.get("/audit/", {"personal_only": "on"}))
    assert "personal_data.read" in log and "办理信访件, 联系信访人" in log
    assert row.id_number not in log


# --- the legal-entity registry -----------------------------------------------------------

def test_enterprise_list_and_page(internal_client, reader, people) -> None:
    sign_in_client(internal_client, reader)
    enterprise, representative = people.enterprise, people.rows[0]
    html = text(internal_client.get("/registry/enterprises/"))
    assert unlabelled_inputs(html) == []
    assert f"<code>{enterprise.credit_code}</code>" in html  # public: not masked
    assert representative.name not in html
    assert f"<td>{mask_name(representative.name)}</td>" in html
    assert "存续" in html and "东湖街道" in html
    for query, count in [({"q": "湖畔"}, 1), ({"q": enterprise.credit_code.lower()}, 1),
                         ({"q": "没有"}, 0), ({"region": OTHER_DISTRICT}, 0)]:
        found = text(internal_client.get("/registry/enterprises/", query))
        assert found.count('<th scope="row"><a href="/registry/enterprises/') == count, query

    page = text(internal_client.get(f"/registry/enterprises/{enterprise.credit_code}/"))
    assert enterprise.name in page and "软件和信息技术服务业" in page
    assert "示例市东城区湖畔路 8 号" in page  # an enterprise's address is public
    assert representative.name not in page and representative.id_number not in page
    masked = mask_name(representative.name)
    assert f'<a href="/registry/persons/{people.person().pk}/">{masked}</a>' in page
    assert internal_client.get("/registry/enterprises/91339901MA0000000X/").status_code == 404


# --- cost --------------------------------------------------------------------------------

def test_list_queries_do_not_grow_with_rows(internal_client, reader, city,
                                            django_assert_max_num_queries) -> None:
    people = make_people(city, 40)
    rng = random.Random(5)
    for n in range(30):
        registry.register_enterprise(
            credit_code=generate_credit_code(DISTRICT[:6], rng=rng), name=f"企业{n:02d}",
            kind="有限责任公司", legal_representative=people.person(n), region_code=STREET)
    sign_in_client(internal_client, reader)
    # session, identity session, user, permissions (2), memberships, districts, streets,
    # count, rows,
    # region names, grid names
    with django_assert_max_num_queries(12):
        internal_client.get("/registry/persons/")
    with django_assert_max_num_queries(12):
        internal_client.get("/registry/enterprises/")
