import random
from datetime import date

import pytest

from yiwang.core.identifiers.service import generate_credit_code, generate_id_number

URL = "/api/v1/identifiers/validate"


def post(client, kind, value):
    return client.post(URL, {"kind": kind, "value": value}, content_type="application/json")


def test_a_valid_id_number_is_normalised(public_client):
    number = generate_id_number("339902", date(1990, 3, 7), "female", sequence=902)
    response = post(public_client, "id_number", f" {number.lower()} ")
    assert response.status_code == 200
    assert response.json() == {"valid": True, "value": number, "region_code": "339902"}


@pytest.mark.parametrize(
    ("mutate", "part"),
    [
        (lambda n: n[:17], "length"),
        (lambda n: n[:6] + "20230230" + n[14:], "birth_date"),
        (lambda n: n[:17] + ("0" if n[17] != "0" else "1"), "check"),
        (lambda n: "00" + n[2:], "region"),
        (lambda n: n[:10] + "ab" + n[12:], "characters"),
    ],
)
def test_a_bad_id_number_names_the_failing_part(public_client, mutate, part):
    number = generate_id_number("339902", date(1990, 3, 7), "male", sequence=901)
    response = post(public_client, "id_number", mutate(number))
    assert response.status_code == 400
    body = response.json()
    assert body["valid"] is False
    assert body["part"] == part
    assert body["detail"]


def test_credit_codes(public_client):
    code = generate_credit_code("339902", rng=random.Random(3))
    assert post(public_client, "credit_code", code).json()["valid"] is True
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    response = post(public_client, "credit_code", wrong)
    assert response.status_code == 400
    assert response.json()["part"] == "check"


def test_malformed_requests_are_4xx_not_500(public_client):
    assert post(public_client, "passport", "E12345678").status_code == 422
    assert public_client.post(URL, "not json", content_type="application/json").status_code in (
        400, 422)
    assert post(public_client, "id_number", "1" * 65).status_code == 422
