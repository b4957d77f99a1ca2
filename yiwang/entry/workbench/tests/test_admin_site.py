import pytest
from django.contrib.auth import get_user_model

from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def test_only_superusers_enter_the_django_admin(internal_client):
    users = get_user_model().objects
    official = users.create_user("official9", password="x" * 12, is_staff=True)
    sign_in_client(internal_client, official)
    response = internal_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    admin = users.create_superuser("root9", password="x" * 12)
    sign_in_client(internal_client, admin)
    assert internal_client.get("/admin/").status_code == 200
