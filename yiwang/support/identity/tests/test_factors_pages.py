"""The security overview (安全设置), the confirm-it's-you page and the passkey button."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from yiwang.support.identity.models import TotpDevice, User, WebAuthnCredential
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


def make_user(username: str = "zhangsan") -> User:
    return User.objects.create_user(username=username, password="correct horse battery",
                                    phone="13812345678", phone_verified_at=timezone.now())


def test_anonymous_visitors_are_sent_to_sign_in(public_client) -> None:  # type: ignore[no-untyped-def]
    for name in ("identity:security", "identity:totp_add", "identity:passkey_add",
                 "identity:recovery_codes", "identity:reauth"):
        response = public_client.get(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("identity:login")), name


def test_the_empty_overview_offers_to_set_up_factors(public_client) -> None:  # type: ignore[no-untyped-def]
    sign_in_client(public_client, make_user(), amr=["pwd"])
    response = public_client.get(reverse("identity:security"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "尚未添加身份验证器" in body and "尚未添加通行密钥" in body
    assert reverse("identity:totp_add") in body and reverse("identity:passkey_add") in body
    assert "建议启用多因素认证" in body
    assert "138****5678" in body and "13812345678" not in body
    assert reverse("identity:sessions") in body


def test_the_overview_lists_my_factors_and_nobody_elses(public_client) -> None:  # type: ignore[no-untyped-def]
    user, other = make_user(), User.objects.create_user(username="lisi", password="x" * 12)
    TotpDevice.objects.create(user=user, name="我的安卓手机", secret="A" * 32,
                              confirmed_at=timezone.now())
    TotpDevice.objects.create(user=user, name="未完成的绑定", secret="B" * 32)
    WebAuthnCredential.objects.create(user=user, name="我的笔记本", credential_id="a",
                                      public_key="k", backed_up=True)
    TotpDevice.objects.create(user=other, name="李四的手机", secret="C" * 32,
                              confirmed_at=timezone.now())
    sign_in_client(public_client, user)
    body = public_client.get(reverse("identity:security")).content.decode()
    assert "我的安卓手机" in body and "我的笔记本" in body and "已同步的通行密钥" in body
    assert "未完成的绑定" not in body and "李四的手机" not in body
    assert "建议启用多因素认证" not in body


def test_the_english_overview(public_client) -> None:  # type: ignore[no-untyped-def]
    sign_in_client(public_client, make_user())
    response = public_client.get("/en" + reverse("identity:security"))
    assert response.status_code == 200
    assert 'lang="en"' in response.content.decode()


def test_the_confirm_page_offers_what_the_person_has(public_client) -> None:  # type: ignore[no-untyped-def]
    user = make_user()
    sign_in_client(public_client, user)
    body = public_client.get(reverse("identity:reauth")).content.decode()
    assert 'name="password"' in body
    assert 'value="totp"' not in body and "data-passkey-auth" not in body
    TotpDevice.objects.create(user=user, name="p", secret="A" * 32, confirmed_at=timezone.now())
    WebAuthnCredential.objects.create(user=user, name="k", credential_id="a", public_key="k")
    body = public_client.get(reverse("identity:reauth")).content.decode()
    assert 'value="totp"' in body
    assert 'data-mode="step_up"' in body


def test_the_sign_in_page_carries_the_passkey_button(public_client) -> None:  # type: ignore[no-untyped-def]
    body = public_client.get(reverse("identity:login")).content.decode()
    assert "data-passkey-auth" in body
    assert 'data-mode="login"' in body
    assert reverse("identity:passkey_options") in body
    assert 'src="/static/identity/webauthn.js"' in body
