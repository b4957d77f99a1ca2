import pytest
from django.test import override_settings

from yiwang.platform.zones.service import Zone, listeners, zone_for_port
from yiwang.platform.zones.testing import ListenerClient

pytestmark = pytest.mark.django_db

INTERNAL_PATHS = ["/admin/", "/admin/login/", "/metrics", "/login/", "/en/admin/"]


@pytest.mark.parametrize("path", INTERNAL_PATHS)
def test_internal_pages_are_404_on_the_public_listener(public_client, path):
    assert public_client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/admin/login/", "/metrics", "/login/"])
def test_internal_pages_answer_on_the_internal_listener(internal_client, path):
    # Sign-in pages answer by sending the browser on to sign in through the provider.
    assert internal_client.get(path).status_code in (200, 302)


def test_host_header_cannot_move_a_request_into_the_internal_zone(public_client):
    response = public_client.get("/metrics", HTTP_HOST="127.0.0.1:8001")
    assert response.status_code in (400, 404)


def test_unknown_port_is_public():
    assert zone_for_port(12345) == Zone.PUBLIC
    assert zone_for_port(None) == Zone.PUBLIC
    assert zone_for_port("not-a-port") == Zone.PUBLIC


@override_settings(YIWANG_ZONE="internal")
def test_single_zone_process_serves_its_zone_on_any_port(client):
    assert zone_for_port(8000) == Zone.INTERNAL
    assert [z for z, _h, _p in listeners()] == [Zone.INTERNAL]
    assert client.get("/metrics").status_code == 200


@override_settings(YIWANG_ZONE="public")
def test_public_only_process_never_serves_internal_pages(client):
    assert ListenerClient(8001).get("/metrics").status_code == 404
    assert [z for z, _h, _p in listeners()] == [Zone.PUBLIC]
