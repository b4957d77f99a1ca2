"""Portal side of the assistant: ``/assistant/`` (the conversation as a page: works without
JavaScript) and the JSON endpoints the chat widget on every portal page uses —
``/assistant/messages`` (GET the messages after an id; POST a question) and
``/assistant/human`` (POST: hand over to a person). The conversation's token lives in the
visitor's session: nobody else can read it. Questions are rate-limited per address.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.core import ratelimit
from yiwang.support.assistant import service

SESSION_KEY = "assistant_conversation"
QUESTIONS_PER_MINUTE = 30
HANDOVERS_PER_MINUTE = 3


def _conversation(request: HttpRequest, *, create: bool) -> Any:
    found = service.by_token(request.session.get(SESSION_KEY, ""))
    if found is None or found.state == service.ConversationState.CLOSED:
        if not create:
            return found
        found = service.start(request.user)
        request.session[SESSION_KEY] = found.token
    return found


def _message(message: Any) -> dict[str, Any]:
    return {"id": message.pk, "role": message.role, "text": message.text,
            "citations": message.citations, "choices": message.choices,
            "outcome": message.outcome, "at": message.created_at.isoformat()}


def _state(conversation: Any) -> str:
    return conversation.state if conversation is not None else "bot"


def _ask(request: HttpRequest, text: str) -> tuple[Any, list[Any], str]:
    if ratelimit.exceeded("assistant.ask", request, per_minute=QUESTIONS_PER_MINUTE):
        return _conversation(request, create=False), [], _("提问过于频繁,请稍后再试。")
    conversation = _conversation(request, create=True)
    try:
        return conversation, service.ask(conversation, text[:2000]), ""
    except ValidationError as exc:
        return conversation, [], " ".join(exc.messages)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def page(request: HttpRequest) -> HttpResponse:
    """The conversation as a page (the widget's fallback without JavaScript)."""
    error = ""
    if request.method == "POST":
        if request.POST.get("action") == "human":
            if not _handover_limited(request):
                service.request_human(_conversation(request, create=True))
            return redirect("assistant_portal:page")
        if request.POST.get("action") == "new":
            request.session.pop(SESSION_KEY, None)
            return redirect("assistant_portal:page")
        _found, _new, error = _ask(request, request.POST.get("text", ""))
        if not error:
            return redirect(reverse("assistant_portal:page") + "#latest")
    conversation = _conversation(request, create=False)
    transcript = list(service.after(conversation)) if conversation is not None else []
    return render(request, "assistant/page.html", {
        "conversation": conversation, "transcript": transcript, "error": error,
        "nav": "assistant",
        "crumbs": [{"name": _("首页"), "href": reverse("portal:home")}]},
        status=400 if error else 200)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def messages(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        conversation, new, error = _ask(request, request.POST.get("text", ""))
        if error:
            return JsonResponse({"detail": error, "state": _state(conversation)}, status=400)
        return JsonResponse({"messages": [_message(m) for m in new],
                             "state": _state(conversation)})
    conversation = _conversation(request, create=False)
    try:
        last = int(request.GET.get("after", "0"))
    except ValueError:
        last = 0
    found = list(service.after(conversation, last)[:100]) if conversation is not None else []
    return JsonResponse({"messages": [_message(m) for m in found],
                         "state": _state(conversation), "csrf": get_token(request)})


def _handover_limited(request: HttpRequest) -> bool:
    """Hand-overs fill the agents' queue: a few a minute per address."""
    return ratelimit.exceeded("assistant.human", request, per_minute=HANDOVERS_PER_MINUTE)


@require_POST
def human(request: HttpRequest) -> HttpResponse:
    if _handover_limited(request):
        return JsonResponse({"detail": _("转人工请求过于频繁,请稍后再试。"),
                             "state": _state(_conversation(request, create=False))},
                            status=429)
    conversation = _conversation(request, create=True)
    new = service.request_human(conversation)
    return JsonResponse({"messages": [_message(m) for m in new],
                         "state": _state(conversation)})
