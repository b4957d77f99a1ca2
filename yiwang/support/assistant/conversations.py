"""Conversations: the visitor asks, the assistant answers (``dialogue.py``) until the
visitor asks for a person; then the conversation waits in the agents' queue on the
workbench with everything said so far, an agent takes it (one at a time: the first wins),
answers, and closes it. Three abusive messages end a conversation."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.support.assistant import dialogue
from yiwang.support.assistant.models import Conversation, ConversationState, Message, Role

ABUSE_LIMIT = 3
State = ConversationState


def start(user: Any = None) -> Conversation:
    return Conversation.objects.create(
        token=secrets.token_urlsafe(32),
        user=user if getattr(user, "is_authenticated", False) else None)


def by_token(token: str) -> Conversation | None:
    return Conversation.objects.filter(token=(token or "")[:43]).first() if token else None


def _add(conversation: Conversation, role: str, text: str, **extra: Any) -> Message:
    return Message.objects.create(conversation=conversation, role=role, text=text, **extra)


def _bump(conversation: Conversation, **changes: Any) -> None:
    changes.setdefault("updated_at", timezone.now())
    Conversation.objects.filter(pk=conversation.pk).update(row_version=F("row_version") + 1,
                                                           **changes)
    for name, value in changes.items():
        setattr(conversation, name, value)


def ask(conversation: Conversation, text: str) -> list[Message]:
    """The visitor says something; returns the new messages (theirs and the reply)."""
    if conversation.state == State.CLOSED:
        raise ValidationError(_("这次对话已经结束,请开始新的对话。"), code="closed")
    text = dialogue.check(text)
    # the reply is worked out before the write transaction (ranking reads the index and
    # runs the encoder: no writer should wait for that)
    reply = dialogue.answer(text) if conversation.state == State.BOT else None
    with transaction.atomic():
        mine = _add(conversation, Role.USER, text)
        if reply is None:
            _bump(conversation)
            return [mine]  # a person answers
        if reply.outcome == "refused":
            _bump(conversation, abusive=conversation.abusive + 1)
            if conversation.abusive >= ABUSE_LIMIT:
                _bump(conversation, state=State.CLOSED, closed_at=timezone.now())
                audit.record("assistant.closed_for_abuse", conversation)
                return [mine, _add(conversation, Role.SYSTEM,
                                   _("由于多次出现不文明用语,本次对话已结束。"),
                                   outcome="closed")]
        if reply.outcome == "human":
            return [mine, *_hand_over(conversation)]
        out = _add(conversation, Role.BOT, reply.text, citations=reply.citations,
                   choices=reply.choices, outcome=reply.outcome)
        _bump(conversation)
        return [mine, out]


def _hand_over(conversation: Conversation) -> list[Message]:
    _bump(conversation, state=State.WAITING, handed_over_at=timezone.now())
    waiting = Conversation.objects.filter(state=State.WAITING,
                                          handed_over_at__lt=conversation.handed_over_at
                                          ).count()
    audit.record("assistant.handed_over", conversation)
    return [_add(conversation, Role.SYSTEM, _(
        "已为您转接人工客服,前面还有 %(n)d 位。客服人员会看到您之前的对话;工作时间"
        "(工作日 8:30–18:00)以外留言,将在上班后答复。") % {"n": waiting},
        outcome="human")]


def request_human(conversation: Conversation) -> list[Message]:
    if conversation.state != State.BOT:
        return []
    with transaction.atomic():
        return _hand_over(conversation)


def after(conversation: Conversation, last_id: int = 0) -> QuerySet[Message]:
    return conversation.messages.filter(id__gt=last_id).order_by("id")


# --- agents -----------------------------------------------------------------------------------

def queue(*, state: str = "", agent: Any = None) -> QuerySet[Conversation]:
    """Handed-over conversations, the longest waiting first."""
    rows = Conversation.objects.exclude(handed_over_at=None)
    if state:
        rows = rows.filter(state=state)
    if agent is not None:
        rows = rows.filter(agent=agent)
    return rows.order_by("handed_over_at", "id")


def _check_version(conversation: Conversation, expected: int | None) -> None:
    if expected is not None and expected != conversation.row_version:
        raise ValidationError(_("这个对话刚有新的变化,请刷新后再操作。"), code="conflict")


def take(agent: Any, conversation: Conversation, expected_version: int | None = None
         ) -> Conversation:
    """An agent takes a waiting conversation (the first to take it wins)."""
    _check_version(conversation, expected_version)
    with transaction.atomic():
        taken = Conversation.objects.filter(pk=conversation.pk, state=State.WAITING).update(
            state=State.HUMAN, agent=agent, row_version=F("row_version") + 1,
            updated_at=timezone.now())
        if not taken:
            raise ValidationError(_("这个对话已经由其他客服人员接待了。"), code="conflict")
        _add(conversation, Role.SYSTEM, _("人工客服已接入,请问有什么可以帮您?"))
        audit.record("assistant.taken", conversation, actor=agent)
    conversation.refresh_from_db()
    return conversation


def reply(agent: Any, conversation: Conversation, text: str) -> Message:
    if conversation.state != State.HUMAN or conversation.agent_id != agent.pk:
        raise ValidationError(_("请先接待这个对话。"), code="not_taken")
    text = " ".join((text or "").split())
    if not text:
        raise ValidationError(_("请输入回复内容。"), code="empty")
    if len(text) > 2000:
        raise ValidationError(_("回复不能超过 2000 个字。"), code="too_long")
    with transaction.atomic():
        sent = _add(conversation, Role.AGENT, text)
        _bump(conversation)
    return sent


def close(actor: Any, conversation: Conversation) -> Conversation:
    if conversation.state == State.CLOSED:
        return conversation
    with transaction.atomic():
        _bump(conversation, state=State.CLOSED, closed_at=timezone.now())
        _add(conversation, Role.SYSTEM, _("本次对话已结束,感谢您的咨询。"))
        audit.record("assistant.closed", conversation, actor=actor)
    return conversation
