import pytest
from django.contrib.auth import get_user_model

from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def test_only_officials_may_use_the_internal_api(internal_client, public_client):
    users = get_user_model().objects
    assert internal_client.get("/api/v1/me").status_code == 401
    citizen = users.create_user("citizen1", password="x" * 12)
    sign_in_client(internal_client, citizen)
    assert internal_client.get("/api/v1/me").status_code == 401
    official = users.create_user("official1", password="x" * 12, is_staff=True,
                                 display_name="李四")
    sign_in_client(internal_client, official)
    assert internal_client.get("/api/v1/me").json() == {"username": "official1", "name": "李四"}
    sign_in_client(public_client, official)
    assert public_client.get("/api/v1/me").status_code == 404
