"""智能客服 in the workbench: the queue of conversations handed over to a person (the
longest waiting first), a conversation with everything said before the hand-over, taking it
(the first agent wins), answering and closing it (``assistant.answer_chat``); and the
questions the assistant could not answer, for the editors of the guides
(``assistant.view_unanswered``). The visitor's messages are personal data: opening a
conversation is audited."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from yiwang.core.audit import service as audit
from yiwang.entry.workbench.access import permission_required
from yiwang.entry.workbench.views import expected_version, render_page
from yiwang.support.assistant import service as assistant

ANSWER = "assistant.answer_chat"


@require_safe
@never_cache
@permission_required(ANSWER)
def queue(request: HttpRequest) -> HttpResponse:
    return render_page(request, "workbench/assistant_queue.html", "assistant", {
        "waiting": list(assistant.queue(state="waiting")[:100]),
        "mine": list(assistant.queue(state="human", agent=request.user)[:100]),
        "unanswered": (assistant.unanswered(20)
                       if request.user.has_perm("assistant.view_unanswered") else None)})


def _conversation(pk: int) -> assistant.Conversation:
    found = assistant.queue().filter(pk=pk).first()
    if found is None:  # only handed-over conversations are an agent's business
        raise Http404("no such conversation")
    return found


@require_safe
@never_cache
@permission_required(ANSWER)
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    found = _conversation(pk)
    audit.record_personal_read(found, ["messages"], purpose="assistant.handover",
                               actor=request.user)
    return render_page(request, "workbench/assistant_conversation.html", "assistant", {
        "conversation": found, "transcript": list(assistant.after(found)),
        "mine": found.agent_id == request.user.pk})


@require_POST
@permission_required(ANSWER)
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    found = _conversation(pk)
    try:
        if action == "take":
            assistant.take(request.user, found, expected_version(request))
            messages.success(request, _("已接待。"))
        elif action == "reply":
            assistant.reply(request.user, found, request.POST.get("text", "")[:4000])
        elif action == "close":
            if found.agent_id not in (None, request.user.pk):
                raise ValidationError(_("只能结束自己接待的对话。"))
            assistant.close(request.user, found)
            messages.success(request, _("对话已结束。"))
        else:
            raise Http404("no such action")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("workbench:assistant_conversation", pk=found.pk)
