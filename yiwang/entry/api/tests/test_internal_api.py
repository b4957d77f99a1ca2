import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def test_only_officials_may_use_the_internal_api(internal_client, public_client):
    users = get_user_model().objects
    assert internal_client.get("/api/v1/me").status_code == 401
    citizen = users.create_user("citizen1", password="x" * 12)
    internal_client.force_login(citizen)
    assert internal_client.get("/api/v1/me").status_code == 401
    official = users.create_user("official1", password="x" * 12, is_staff=True,
                                 display_name="李四")
    internal_client.force_login(official)
    assert internal_client.get("/api/v1/me").json() == {"username": "official1", "name": "李四"}
    public_client.force_login(official)
    assert public_client.get("/api/v1/me").status_code == 404
