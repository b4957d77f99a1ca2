"""`yiwang sms-outbox` shows what the local gateway "sent"."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from yiwang.support.identity import sms


@pytest.fixture
def outbox(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_lists_the_newest_messages_with_their_codes(outbox) -> None:
    sms.get_gateway().send("13800001111", "otp", "验证码 123456", {"code": "123456"})
    sms.get_gateway().send("13800002222", "otp", "验证码 654321", {"code": "654321"})
    out = StringIO()
    call_command("sms_outbox", stdout=out)
    assert "13800001111" in out.getvalue() and "[code 654321]" in out.getvalue()
    out = StringIO()
    call_command("sms_outbox", phone="138 0000 2222", stdout=out)
    assert "654321" in out.getvalue() and "123456" not in out.getvalue()


@pytest.mark.django_db
def test_empty_outbox_says_so(outbox) -> None:
    out = StringIO()
    call_command("sms_outbox", stdout=out)
    assert "No messages" in out.getvalue()


def test_refuses_with_a_real_gateway() -> None:
    with override_settings(YIWANG_SMS_GATEWAY="provider-x"), pytest.raises(CommandError):
        call_command("sms_outbox")


@pytest.mark.django_db
def test_bad_phone_is_a_clear_error(outbox) -> None:
    with pytest.raises(CommandError):
        call_command("sms_outbox", phone="12345")
