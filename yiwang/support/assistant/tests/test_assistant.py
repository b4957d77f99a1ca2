"""The assistant as people use it: answers with a link to the guide, a clarifying question
when two guides fit, an honest "not found" (logged for editors), refusals of empty, long
and abusive messages, the hand-over to a person and the agent's side."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from yiwang.support.assistant import service as assistant
from yiwang.support.search import service as search

pytestmark = pytest.mark.django_db

GUIDES = {
    "WFZ": ("无犯罪记录证明开具", {
        "受理条件": "本市户籍居民或在本市居住的人员,因就业、出国等需要开具。",
        "申请材料": "居民身份证;用途说明。"}),
    "CS": ("出生医学证明首次签发", {"受理条件": "在本市医疗机构出生的新生儿,由父母申请。",
                            "申请材料": "父母身份证;出生医学记录。"}),
    "HZ": ("普通护照签发", {"受理条件": "中国公民因私出国申请护照。",
                      "申请材料": "居民身份证;近期彩色照片。"}),
}


@pytest.fixture
def guides(db: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    assistant.forget()
    search.forget_synonyms()
    for code, (title, sections) in GUIDES.items():
        source = f"service:{code}"
        assistant.replace_passages(source, [assistant.PassageInput(
            source=source, section=name, title=title, text=text, url=f"/services/{code}/")
            for name, text in sections.items()])
        search.index_documents([search.DocumentInput(
            key=source, kind="service", title=title, body=" ".join(sections.values()),
            url=f"/services/{code}/")])


def test_a_question_is_answered_from_the_guide_with_a_link(guides: None) -> None:
    reply = assistant.answer("我要出国,怎么开无犯罪记录证明?")
    assert reply.outcome == "answer"
    assert "无犯罪记录证明开具" in reply.text
    assert reply.citations[0]["url"] == "/services/WFZ/"


def test_nothing_relevant_is_said_plainly_and_logged(guides: None) -> None:
    reply = assistant.answer("火星上的天气怎么样")
    assert reply.outcome == "none" and reply.choices[0]["value"] == "转人工"
    assert assistant.unanswered()[0].question == "火星上的天气怎么样"


def test_personal_data_in_an_unanswered_question_is_masked(guides: None) -> None:
    assistant.answer("13812345678 火星上的天气")
    assert "13812345678" not in assistant.unanswered()[0].question


def test_bad_messages_are_refused(guides: None) -> None:
    conversation = assistant.start()
    for bad, code in (("", "empty"), ("   ", "empty"), ("问" * 501, "too_long")):
        with pytest.raises(ValidationError) as caught:
            assistant.ask(conversation, bad)
        assert caught.value.code == code
    assert not conversation.messages.exists()
    for _n in range(3):
        said = assistant.ask(conversation, "你这个傻逼客服")
    assert said[-1].role == "system"
    conversation.refresh_from_db()
    assert conversation.state == "closed" and conversation.abusive == 3


def test_hand_over_to_a_person_and_the_first_agent_wins(guides: None) -> None:
    from yiwang.support.credit.testing import officer

    conversation = assistant.start()
    assistant.ask(conversation, "出生医学证明怎么办")
    said = assistant.ask(conversation, "转人工")
    conversation.refresh_from_db()
    assert said[-1].outcome == "human" and conversation.state == "waiting"
    assert list(assistant.queue(state="waiting")) == [conversation]
    one = officer("zwfw.agent1", "fgw", "assistant.answer_chat")
    two = officer("zwfw.agent2", "fgw", "assistant.answer_chat")
    stale = assistant.Conversation.objects.get(pk=conversation.pk)
    assistant.take(one, conversation)
    with pytest.raises(ValidationError):
        assistant.take(two, stale)
    mine = assistant.ask(conversation, "出生医学证明丢了怎么办?")
    assert [m.role for m in mine] == ["user"]  # a person answers now, not the bot
    with pytest.raises(ValidationError):
        assistant.reply(two, conversation, "我来回答")
    assistant.reply(one, conversation, "可以到出生的医院申请补发。")
    roles = [m.role for m in assistant.after(conversation)]
    assert roles[-2:] == ["user", "agent"]
    assistant.close(one, conversation)
    with pytest.raises(ValidationError):
        assistant.ask(conversation, "还在吗")


def test_an_unclear_question_gets_a_clarifying_question(guides: None, monkeypatch: Any) -> None:
    """Two guides scored close together (the vectors prefer one, BM25 the other): the
    assistant asks which; choosing one answers from it."""
    from yiwang.support.assistant import dialogue

    passages = {p.source: p.pk for p in assistant.Passage.objects.order_by("id")}
    close = [dialogue.Candidate("service:WFZ", 0.211, passages["service:WFZ"], 0.30, 1),
             dialogue.Candidate("service:CS", 0.211, passages["service:CS"], 0.28, 0)]
    real_rank = dialogue.rank
    monkeypatch.setattr(dialogue, "rank", lambda q, limit=5: close)
    reply = assistant.answer("证明")
    assert reply.outcome == "clarify"
    labels = [c["label"] for c in reply.choices]
    assert labels == ["无犯罪记录证明开具", "出生医学证明首次签发"]
    monkeypatch.setattr(dialogue, "rank", real_rank)
    chosen = assistant.answer(reply.choices[1]["value"])
    assert chosen.outcome == "answer" and chosen.citations[0]["url"] == "/services/CS/"
    apart = [close[0], dialogue.Candidate("service:CS", 0.1, passages["service:CS"], 0.2, 3)]
    monkeypatch.setattr(dialogue, "rank", lambda q, limit=5: apart)
    assert assistant.answer("证明").outcome == "answer"  # a clear winner is answered


def test_greetings_and_thanks_are_answered_without_a_search(guides: None) -> None:
    assert assistant.answer("你好").outcome == "greeting"
    assert assistant.answer("谢谢!").outcome == "thanks"
    assert not assistant.unanswered()
