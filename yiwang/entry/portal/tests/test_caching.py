import pytest
from django.core.cache import cache
from django.test import override_settings

from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions.testing import CITY, make_chain

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@override_settings(YIWANG_PAGE_CACHE_SECONDS=30)
def test_anonymous_pages_are_served_from_the_cache_per_url_and_language(public_client):
    first = public_client.get("/about/")
    assert first["X-Page-Cache"] == "miss"
    again = public_client.get("/about/")
    assert again["X-Page-Cache"] == "hit"
    assert again.content == first.content
    assert again["X-Request-ID"] != first["X-Request-ID"]
    assert "Content-Security-Policy" in again
    english = public_client.get("/en/about/")
    assert english["X-Page-Cache"] == "miss"
    assert b'lang="en"' in english.content


@override_settings(YIWANG_PAGE_CACHE_SECONDS=30)
def test_visitors_with_a_session_are_never_served_a_shared_page(public_client):
    public_client.get("/about/")
    public_client.cookies["yiwang_public"] = "abc"
    response = public_client.get("/about/")
    assert "X-Page-Cache" not in response


@override_settings(YIWANG_PAGE_CACHE_SECONDS=30)
def test_errors_are_not_cached(public_client):
    assert "X-Page-Cache" not in public_client.get("/departments/nope/")
    assert "X-Page-Cache" not in public_client.get("/departments/nope/")


@override_settings(YIWANG_PAGE_CACHE_SECONDS=30)
def test_a_cached_list_changes_when_the_cache_expires(public_client):
    make_chain()
    chain_city = CITY
    public_client.get("/departments/")
    orgs.create_department(code="newdept", name="新设局", region_code=chain_city)
    assert "新设局" not in public_client.get("/departments/").content.decode()
    cache.clear()  # what expiry does
    assert "新设局" in public_client.get("/departments/").content.decode()


@override_settings(YIWANG_PAGE_CACHE_SECONDS=0)
def test_zero_turns_the_cache_off(public_client):
    public_client.get("/about/")
    assert "X-Page-Cache" not in public_client.get("/about/")
