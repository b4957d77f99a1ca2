"""to_json_schema, parse_post and incoming_files."""

from __future__ import annotations

import base64
from typing import Any

import jsonschema
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from yiwang.enablement.forms import service as forms
from yiwang.enablement.forms import testing
from yiwang.platform.regions import testing as regions_testing

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==")


@pytest.fixture
def definition() -> dict[str, Any]:
    return forms.check_definition(testing.sample_definition())


def validator(definition: dict[str, Any]) -> jsonschema.Draft202012Validator:
    schema = forms.to_json_schema(definition)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.mark.django_db
def test_cleaned_data_is_valid_by_the_json_schema(definition: dict) -> None:
    regions_testing.make_chain()
    check = validator(definition)
    cleaned = forms.validate_submission(definition, testing.sample_data())
    assert list(check.iter_errors(cleaned)) == []
    family = forms.validate_submission(definition, {**testing.sample_data(), "kind": "family",
                                                    "members": [{"member_name": "李四",
                                                                 "member_id": testing.ID_NUMBER}]})
    assert list(check.iter_errors(family)) == []


@pytest.mark.parametrize("changes", [
    {"staff": "3"}, {"scope": "retail"}, {"kind": "company"}, {"bogus": 1},
    {"premises": {"region": "3399"}}, {"location": {"lng": 500, "lat": 0}},
    {"rooms": [{"room": "a", "area": 1, "floor": 1}]}, {"lease": []},
    {"start_date": "01/03/2026"}, {"phone": "12345"}, {"signature": "x"},
])
def test_the_schema_refuses_structurally_wrong_data(definition: dict, changes: dict) -> None:
    assert list(validator(definition).iter_errors({**testing.sample_data(), "staff": 3,
                                                   "rooms": [], **changes}))


def test_schema_shape(definition: dict) -> None:
    schema = forms.to_json_schema(definition)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "members" not in schema["required"]      # conditional
    assert "total_area" not in schema["required"] and schema["properties"]["total_area"][
        "readOnly"] is True
    assert schema["properties"]["staff"]["type"] == "integer"
    assert schema["properties"]["members"]["items"]["required"] == ["member_name", "member_id"]
    assert schema["properties"]["name"]["title"] == "姓名"


def post_of(pairs: list[tuple[str, str]]) -> QueryDict:
    post = QueryDict(mutable=True)
    for name, value in pairs:
        post.appendlist(name, value)
    return post


@pytest.mark.django_db
def test_parse_post_round_trip(definition: dict) -> None:
    regions_testing.make_chain()
    post = post_of([
        ("f-name", "张三"), ("f-id_number", testing.ID_NUMBER), ("f-phone", "13800138000"),
        ("f-kind", "person"), ("f-shop_name", "张记"), ("f-scope.present", "1"),
        ("f-scope", "retail"), ("f-scope", "food"), ("f-start_date", "2026-03-01"),
        ("f-premises.region", "339901001000"), ("f-premises.detail", "湖滨路 1 号"),
        ("f-location.lng", "120.1"), ("f-location.lat", "30.1"),
        ("f-rooms.present", "1"),
        ("f-rooms[0].room", "前厅"), ("f-rooms[0].area", "20"),
        ("f-rooms[3].room", ""), ("f-rooms[3].area", ""),           # a blank row: dropped
        ("f-rooms[7].room", "仓库"), ("f-rooms[7].area", "12.5"),   # renumbered to 1
        ("f-staff", "3"), ("f-total_area", "999"), ("f-lease.present", "1"),
        ("f-lease", testing.TOKEN), ("f-signature", testing.TOKEN_2), ("f-notes", ""),
        ("csrfmiddlewaretoken", "x"),
    ])
    data = forms.parse_post(definition, post, prefix="f-")
    assert data["rooms"] == [{"room": "前厅", "area": "20"}, {"room": "仓库", "area": "12.5"}]
    assert data["scope"] == ["retail", "food"]
    assert data["premises"] == {"region": "339901001000", "detail": "湖滨路 1 号"}
    assert "total_area" not in data
    cleaned = forms.validate_submission(definition, data)
    assert cleaned["total_area"] == 32.5 and cleaned["location"] == {"lng": 120.1, "lat": 30.1}
    assert "notes" not in cleaned


def test_parse_post_unchecked_boxes_clear_the_field(definition: dict) -> None:
    data = forms.parse_post(definition, post_of([("scope.present", "1"), ("rooms.present", "1")]))
    assert data == {"scope": [], "rooms": []}
    assert forms.parse_post(definition, post_of([])) == {}


def test_parse_post_ignores_absurd_row_numbers(definition: dict) -> None:
    post = post_of([("rooms[99999999].room", "x"), ("rooms[1].nope", "y"), ("rooms[2].room", "z")])
    assert forms.parse_post(definition, post)["rooms"] == [{"room": "z"}]


def test_incoming_files(definition: dict) -> None:
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    upload = SimpleUploadedFile("lease.pdf", b"%PDF-1.4", content_type="application/pdf")
    files = MultiValueDict({"lease__upload": [upload]})
    found = forms.incoming_files(definition, post_of([("signature__signature_png", url)]), files)
    assert found["lease"] == [("lease.pdf", upload)]
    assert found["signature"] == [("signature.png", PNG)]
    for bad in ("data:image/svg+xml;base64,PHN2Zz4=", "data:image/png;base64,@@@",
                "data:image/png;base64," + base64.b64encode(b"GIF89a").decode(),
                "data:image/png;base64," + base64.b64encode(PNG + b"x" * 600_000).decode()):
        with pytest.raises(forms.SubmissionInvalid) as exc:
            forms.incoming_files(definition, post_of([("signature__signature_png", bad)]), None)
        assert exc.value.errors == {"signature": ["“申请人签名”的签名图片无效，请清除后重新签名"]}
    many = MultiValueDict({"lease__upload": [upload] * 4})
    with pytest.raises(forms.SubmissionInvalid, match="最多上传 3 个文件"):
        forms.incoming_files(definition, post_of([]), many)
