import pytest

from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def test_only_superusers_enter_the_django_admin(internal_client):
    official = identity.create_official("official9", "官员", password="x" * 12)
    sign_in_client(internal_client, official)
    response = internal_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert internal_client.get("/admin/login/").status_code == 403  # signed in, not admin
    admin = identity.create_official("root9", "管理员", password="x" * 12, superuser=True)
    sign_in_client(internal_client, admin)
    assert internal_client.get("/admin/").status_code == 200


def test_the_admin_has_no_password_form_of_its_own(internal_client):
    response = internal_client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/admin/")
    assert internal_client.post("/admin/login/", {"username": "x", "password": "y"}
                                ).status_code == 302


def test_a_superuser_with_one_factor_is_sent_to_step_up(internal_client):
    admin = identity.create_official("root8", "管理员", password="x" * 12, superuser=True)
    sign_in_client(internal_client, admin, amr=("pwd",))
    response = internal_client.get("/admin/")
    assert response.status_code == 302
    follow = internal_client.get(response["Location"])
    assert follow.status_code == 302 and follow["Location"].startswith("/login/")
