"""Portal pages of the notify app: the person's inbox (我的消息) at ``/notifications/``.

Who may do what: only a signed-in person with a live identity-provider session, and only
their own notifications: the queries filter by ``recipient=request.user``, so another
person's notification id is a 404 (opening) or ignored (marking read).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, translate_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from yiwang.support.identity import service as identity
from yiwang.support.notify import service
from yiwang.support.notify.models import Notification

PER_PAGE = 20


#: portal pages for a signed-in person (after a POST, back to notify_portal:list)
signed_in = identity.signed_in_required("notify_portal:list")


@never_cache
@require_safe
@signed_in
def inbox(request: HttpRequest) -> HttpResponse:
    """The person's notifications, newest first; ``?unread=1`` shows only unread ones."""
    unread_only = request.GET.get("unread") == "1"
    page = service.list_notifications(request.user, page=request.GET.get("page", 1),
                                      per_page=PER_PAGE, unread_only=unread_only)
    return render(request, "notify/list.html", {
        "page": page, "notifications": page.object_list, "unread_only": unread_only,
        "unread": service.unread_count(request.user),
        "page_range": page.paginator.get_elided_page_range(page.number),
    })


@never_cache
@require_POST
@signed_in
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read and follow its link (or come back to the list). Links
    are stored without a language prefix: the redirect goes to the page in the language
    the person reads in (``/en/…`` from the English pages)."""
    notification = Notification.objects.filter(pk=pk, recipient_id=request.user.pk).first()
    if notification is None:
        raise Http404
    service.mark_read(request.user, [notification.pk])
    link = notification.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()},
                                                require_https=request.is_secure()):
        return HttpResponseRedirect(_in_language(link, get_language()))
    return redirect("notify_portal:list")


def _in_language(link: str, language: str) -> str:
    """``translate_url`` of a link stored without a language prefix: resolved as a path of
    the default language (unprefixed), reversed in ``language``; unchanged if it does not
    resolve."""
    with override(settings.LANGUAGE_CODE):
        return translate_url(link, language)


@never_cache
@require_POST
@signed_in
def mark_read(request: HttpRequest) -> HttpResponse:
    """Mark the selected notifications (``ids``) or, with ``all``, every one as read."""
    if request.POST.get("all"):
        count = service.mark_all_read(request.user)
    else:
        ids = [value for value in request.POST.getlist("ids") if value.isdigit()]
        count = service.mark_read(request.user, [int(value) for value in ids])
    if count:
        messages.success(request, _("已将 %(count)d 条消息标为已读。") % {"count": count})
    else:
        messages.info(request, _("没有需要标为已读的消息。"))
    back = request.POST.get("next", "")
    if back.startswith(reverse("notify_portal:list")):
        return HttpResponseRedirect(back)
    return redirect("notify_portal:list")


