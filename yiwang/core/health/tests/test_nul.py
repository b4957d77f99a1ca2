"""NUL characters are refused at the door with a clear 400."""

import pytest

pytestmark = pytest.mark.django_db


def test_nul_in_a_query_string_is_a_400(public_client):
    response = public_client.get("/departments/?q=%00abc")
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_nul_in_a_form_is_a_400(public_client):
    response = public_client.post("/account/login/", "login=a%00b&password=x",
                                  content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_ordinary_requests_pass(public_client):
    assert public_client.get("/departments/?q=abc").status_code == 200
