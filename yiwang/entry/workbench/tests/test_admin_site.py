import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def test_only_superusers_enter_the_django_admin(internal_client):
    users = get_user_model().objects
    official = users.create_user("official9", password="x" * 12, is_staff=True)
    internal_client.force_login(official)
    response = internal_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    admin = users.create_superuser("root9", password="x" * 12)
    internal_client.force_login(admin)
    assert internal_client.get("/admin/").status_code == 200
