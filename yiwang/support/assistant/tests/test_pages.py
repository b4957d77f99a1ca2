"""The chat as a visitor uses it: the widget's JSON endpoints and the page without
JavaScript; one visitor cannot read another's conversation."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from yiwang.support.assistant.tests.test_assistant import guides  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_widget_asks_and_gets_an_answer_with_a_link(public_client: Any,
                                                        guides: None) -> None:  # noqa: F811
    sent = public_client.post("/assistant/messages", {"text": "出国开无犯罪记录证明"})
    body = sent.json()
    assert sent.status_code == 200 and [m["role"] for m in body["messages"]] == ["user", "bot"]
    assert body["messages"][1]["citations"][0]["url"] == "/services/WFZ/"
    again = public_client.get("/assistant/messages").json()["messages"]
    assert len(again) == 2
    empty = public_client.post("/assistant/messages", {"text": " "})
    assert empty.status_code == 400 and "请输入您的问题" in empty.json()["detail"]
    stranger = Client(HTTP_HOST=public_client.defaults.get("HTTP_HOST", "localhost"))
    assert stranger.get("/assistant/messages").json()["messages"] == []


def test_the_page_works_without_javascript_and_hands_over(public_client: Any,
                                                         guides: None) -> None:  # noqa: F811
    asked = public_client.post("/assistant/", {"text": "孩子出生了办出生医学证明"})
    assert asked.status_code == 302
    page = public_client.get("/assistant/").content.decode()
    assert 'data-role="bot"' in page and 'href="/services/CS/"' in page
    assert public_client.post("/assistant/", {"text": ""}).status_code == 400
    public_client.post("/assistant/", {"action": "human"})
    waiting = public_client.get("/assistant/").content.decode()
    assert 'data-testid="chat-waiting"' in waiting


def test_every_portal_page_has_the_widget(public_client: Any, guides: None) -> None:  # noqa: F811
    home = public_client.get("/search/").content.decode()
    assert 'data-testid="chat-widget"' in home and "/static/assistant/chat.js" in home


def test_hand_overs_are_rate_limited(public_client: Any, guides: None) -> None:  # noqa: F811
    from yiwang.support.assistant import service as assistant

    answers = [public_client.post("/assistant/human").status_code for _n in range(6)]
    assert answers.count(429) >= 2
    assert assistant.queue(state="waiting").count() <= 3
