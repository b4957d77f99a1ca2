"""Notifications: the inbox, unread counts, marking read, access rules and SMS after commit."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse

from yiwang.core.tasks.service import list_recent
from yiwang.support.identity import service as identity
from yiwang.support.identity.testing import sign_in_client
from yiwang.support.notify import actions, service
from yiwang.support.notify.context import unread_notifications
from yiwang.support.notify.models import Notification

pytestmark = pytest.mark.django_db


def make_user(username: str, phone: str = "") -> Any:
    user = get_user_model().objects.create_user(username=username, password="x" * 20)
    user.account_type = "citizen"
    user.display_name = username
    if phone:
        user.phone = phone
    user.save()
    return user


@pytest.fixture
def alice() -> Any:
    return make_user("alice", "19900001111")


@pytest.fixture
def bob() -> Any:
    return make_user("bob")


def note(user: Any, title: str = "您的申请已受理", **kwargs: Any) -> Notification:
    return service.notify(user, kind="application.accepted", title=title, **kwargs)


# --- the service ------------------------------------------------------------------------------


def test_notify_and_unread_count(alice: Any, bob: Any) -> None:
    first = note(alice, body="受理编号 YW-1", link="/applications/1/")
    note(alice, title="请补正材料")
    note(bob)
    assert service.unread_count(alice) == 2 and service.unread_count(bob) == 1
    assert first.link == "/applications/1/" and first.sms_state == ""
    assert service.mark_read(alice, [first.pk]) == 1
    assert service.unread_count(alice) == 1
    assert service.mark_read(alice, [first.pk]) == 0  # already read


def test_a_person_cannot_mark_anothers_notifications(alice: Any, bob: Any) -> None:
    bobs = note(bob)
    assert service.mark_read(alice, [bobs.pk]) == 0
    assert service.mark_all_read(alice) == 0
    bobs.refresh_from_db()
    assert bobs.read_at is None


def test_unread_count_for_anonymous() -> None:
    from django.contrib.auth.models import AnonymousUser

    assert service.unread_count(AnonymousUser()) == 0


@pytest.mark.parametrize("link", ["https://evil.example/", "//evil.example/x",
                                  "javascript:alert(1)", "/\\evil.example"])
def test_only_site_relative_links(alice: Any, link: str) -> None:
    assert note(alice, link=link).link == ""


def test_notification_needs_a_title(alice: Any) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        service.notify(alice, kind="x", title="  ")


def test_list_is_newest_first_and_paginated(alice: Any) -> None:
    for number in range(25):
        note(alice, title=f"消息{number}")
    page = service.list_notifications(alice, page=2, per_page=20)
    assert page.paginator.count == 25 and len(page.object_list) == 5
    assert page.object_list[0].title == "消息4"
    assert service.list_notifications(alice, page="x").number == 1


# --- SMS after commit ---------------------------------------------------------------------------


def fake_gateway(monkeypatch: Any, *, fail: bool = False) -> list[tuple[str, str, dict]]:
    sent: list[tuple[str, str, dict]] = []

    def send_sms(phone: str, template: str, params: dict, *, limited: bool = True) -> str:
        if fail:
            raise RuntimeError("gateway down")
        sent.append((phone, template, params))
        return "msg-1"

    monkeypatch.setattr(identity, "send_sms", send_sms, raising=False)
    return sent


def run_jobs() -> None:
    from yiwang.core.tasks.service import run_pending

    run_pending(isolated=False)


def test_sms_goes_out_after_commit_with_the_title_only(alice: Any, monkeypatch: Any) -> None:
    sent = fake_gateway(monkeypatch)
    notification = note(alice, body="身份证号 110101199003071234", sms=True)
    assert notification.sms_state == "pending" and sent == []
    assert len(list_recent(name="notify.send_sms")) == 1
    run_jobs()
    notification.refresh_from_db()
    assert notification.sms_state == "sent"
    assert sent == [("19900001111", "notice", {"title": "您的申请已受理"})]
    run_jobs()  # a second run sends nothing more
    assert actions.deliver_sms(notification.pk) == "not pending" and len(sent) == 1


def test_sms_to_another_number(alice: Any, monkeypatch: Any) -> None:
    sent = fake_gateway(monkeypatch)
    note(alice, sms=True, phone="19900002222")
    run_jobs()
    assert sent[0][0] == "19900002222"


def test_rolled_back_notification_sends_nothing(alice: Any, monkeypatch: Any) -> None:
    sent = fake_gateway(monkeypatch)
    with pytest.raises(RuntimeError), transaction.atomic():
        note(alice, sms=True)
        raise RuntimeError("the business write failed")
    assert not Notification.objects.exists() and not list_recent(name="notify.send_sms")
    run_jobs()
    assert sent == []


def test_failed_sms_keeps_the_notification(alice: Any, monkeypatch: Any) -> None:
    fake_gateway(monkeypatch, fail=True)
    notification = note(alice, sms=True)
    run_jobs()
    notification.refresh_from_db()
    assert notification.sms_state == "failed" and "gateway down" in notification.sms_error
    assert service.unread_count(alice) == 1


def test_without_a_phone_the_sms_fails_softly(bob: Any, monkeypatch: Any) -> None:
    fake_gateway(monkeypatch)
    notification = note(bob, sms=True)
    run_jobs()
    notification.refresh_from_db()
    assert notification.sms_state == "failed" and notification.sms_error == "no phone number"


def test_without_the_identity_function_the_sms_is_recorded_failed(alice: Any,
                                                                   monkeypatch: Any) -> None:
    monkeypatch.delattr(identity, "send_sms", raising=False)
    notification = note(alice, sms=True)
    run_jobs()
    notification.refresh_from_db()
    assert notification.sms_state == "failed" and "identity" in notification.sms_error


# --- the portal page -----------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(public_client: Any) -> None:
    response = public_client.get(reverse("notify_portal:list"))
    assert response.status_code == 302 and "/account/" in response["Location"]
    response = public_client.post(reverse("notify_portal:mark_read"), {"all": "1"})
    assert response.status_code == 302 and "/account/" in response["Location"]


def test_a_person_sees_only_their_own(public_client: Any, alice: Any, bob: Any) -> None:
    note(alice, title="爱丽丝的消息")
    bobs = note(bob, title="鲍勃的消息", link="/applications/9/")
    sign_in_client(public_client, alice)
    page = public_client.get(reverse("notify_portal:list")).content.decode()
    assert "爱丽丝的消息" in page and "鲍勃的消息" not in page
    response = public_client.post(reverse("notify_portal:open", args=[bobs.pk]))
    assert response.status_code == 404
    public_client.post(reverse("notify_portal:mark_read"), {"ids": [str(bobs.pk)]})
    bobs.refresh_from_db()
    assert bobs.read_at is None


def test_empty_state(public_client: Any, alice: Any) -> None:
    sign_in_client(public_client, alice)
    page = public_client.get(reverse("notify_portal:list")).content.decode()
    assert "暂无消息" in page
    page = public_client.get(reverse("notify_portal:list") + "?unread=1").content.decode()
    assert "没有未读消息" in page


def test_mark_selected_and_all_read(public_client: Any, alice: Any) -> None:
    first, second, third = note(alice, title="一"), note(alice, title="二"), note(alice, title="三")
    sign_in_client(public_client, alice)
    response = public_client.post(reverse("notify_portal:mark_read"),
                                  {"ids": [str(first.pk), "junk"]})
    assert response.status_code == 302
    assert service.unread_count(alice) == 2
    public_client.post(reverse("notify_portal:mark_read"), {"all": "1"})
    assert service.unread_count(alice) == 0
    assert second.pk and third.pk


def test_open_marks_read_and_follows_the_link(public_client: Any, alice: Any) -> None:
    item = note(alice, link="/applications/5/")
    sign_in_client(public_client, alice)
    response = public_client.post(reverse("notify_portal:open", args=[item.pk]))
    assert response.status_code == 302 and response["Location"] == "/applications/5/"
    item.refresh_from_db()
    assert item.read_at is not None
    assert public_client.get(reverse("notify_portal:open", args=[item.pk])).status_code == 405


def test_open_from_the_english_pages_follows_the_link_in_english(public_client: Any,
                                                                  alice: Any) -> None:
    """Links are stored without the language prefix; opened from /en/ they lead to /en/."""
    from django.utils import translation

    target = reverse("notify_portal:list")
    assert not target.startswith("/en/")
    item = note(alice, link=target)
    sign_in_client(public_client, alice)
    with translation.override("en"):
        url = reverse("notify_portal:open", args=[item.pk])
    assert url.startswith("/en/")
    response = public_client.post(url)
    assert response.status_code == 302 and response["Location"] == "/en" + target


def test_pagination_on_the_page(public_client: Any, alice: Any) -> None:
    for number in range(23):
        note(alice, title=f"第{number}条")
    sign_in_client(public_client, alice)
    first = public_client.get(reverse("notify_portal:list")).content.decode()
    assert "第22条" in first and "第2条" not in first and 'rel="next"' in first
    second = public_client.get(reverse("notify_portal:list") + "?page=2").content.decode()
    assert "第2条" in second and "第22条" not in second


def test_page_in_english(public_client: Any, alice: Any) -> None:
    sign_in_client(public_client, alice)
    from django.utils import translation

    with translation.override("en"):
        url = reverse("notify_portal:list")
    response = public_client.get(url)
    assert url.startswith("/en/") and response.status_code == 200
    assert '<html lang="en' in response.content.decode()


def test_context_function_counts_lazily(alice: Any) -> None:
    note(alice)
    request = RequestFactory().get("/")
    request.user = alice
    assert int(str(unread_notifications(request)["unread_notifications"])) == 1
