"""Requests the API cannot read get their reasons in the interface's language, with the
structure programs read (``loc``, ``type``) kept."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def test_a_body_that_is_not_json_is_told_so_in_chinese(public_client: Any) -> None:
    answer = public_client.post("/api/v1/licences/verify", data="{not json",
                                content_type="application/json")
    assert answer.status_code == 400
    assert answer.json() == {
        "detail": "请求体不是有效的 JSON,请检查格式(如引号、逗号和括号)后重试。"}


def test_a_body_of_the_wrong_shape_names_the_field_in_chinese(public_client: Any) -> None:
    answer = public_client.post("/api/v1/licences/verify", data="[1, 2]",
                                content_type="application/json")
    assert answer.status_code == 422
    errors = answer.json()["detail"]
    assert errors and all(set(e) == {"type", "loc", "msg"} for e in errors)
    assert errors[0]["msg"] in ("应为 JSON 对象。", "缺少必填项。")
    assert "Input should" not in answer.content.decode()

