import pytest
from django.contrib.auth import get_user_model

from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def test_only_officials_may_use_the_internal_api(internal_client, public_client):
    users = get_user_model().objects
    assert internal_client.get("/api/v1/me").status_code == 401
    citizen = users.create_user("citizen1", password="x" * 12)
    sign_in_client(internal_client, citizen)
    assert internal_client.get("/api/v1/me").status_code == 401
    official = identity.create_official("official1", "李四", password="x" * 12)
    sign_in_client(internal_client, official, amr=("qr",))  # one factor: not enough
    assert internal_client.get("/api/v1/me").status_code == 401
    sign_in_client(internal_client, official)
    assert internal_client.get("/api/v1/me").json() == {"username": "official1", "name": "李四"}
    sign_in_client(public_client, official)
    assert public_client.get("/api/v1/me").status_code == 404
