"""The SMS gateway registry, the local gateway's outbox and the per-phone limits."""

from __future__ import annotations

import json
import logging
import stat
from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils import timezone

from yiwang.core.audit.service import AuditEvent
from yiwang.support.identity import sms

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


@pytest.fixture(autouse=True)
def _outbox(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.YIWANG_SMS_GATEWAY = "local"


def later(seconds: float):
    return mock.patch("django.utils.timezone.now",
                      return_value=timezone.now() + timedelta(seconds=seconds))


def test_the_local_gateway_writes_one_json_line_per_message_readable_only_by_us() -> None:
    message_id = sms.send(PHONE, "otp", {"code": "123456", "minutes": 5, "purpose": "sign_in"})
    path = sms.outbox_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    (line,) = path.read_text().splitlines()
    record = json.loads(line)
    assert record["id"] == message_id and message_id.startswith("local-")
    assert record["phone"] == PHONE  # the outbox stands for the phone: the full number
    assert record["params"]["code"] == "123456"
    assert "123456" in record["text"] and "登录" in record["text"]


def test_the_log_line_masks_the_number_and_never_has_the_code(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="yiwang.support.identity.sms"):
        sms.send(PHONE, "otp", {"code": "654321", "minutes": 5, "purpose": "sign_in"})
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "138****5678" in logged
    assert PHONE not in logged and "654321" not in logged


def test_sends_are_audited_with_the_number_masked() -> None:
    sms.send(PHONE, "otp", {"code": "111111", "minutes": 5, "purpose": "register"})
    event = AuditEvent.objects.get(action="identity.sms_sent")
    assert event.detail == {"gateway": "local", "phone": "138****5678", "template": "otp"}
    assert "111111" not in json.dumps(event.detail)


def test_latest_code_reads_the_newest_code_for_that_phone() -> None:
    sms.send(PHONE, "otp", {"code": "000001", "minutes": 5, "purpose": "sign_in"})
    sms.send("13912345678", "otp", {"code": "000002", "minutes": 5, "purpose": "sign_in"})
    with later(61):
        sms.send(PHONE, "otp", {"code": "000003", "minutes": 5, "purpose": "register"})
    assert sms.latest_code(PHONE) == "000003"
    assert sms.latest_code(PHONE, purpose="sign_in") == "000001"
    assert sms.latest_code("+86 139 1234 5678") == "000002"
    assert sms.latest_code("13700000000") is None


def test_one_message_a_minute_per_phone() -> None:
    sms.send(PHONE, "otp", {"code": "1", "minutes": 5, "purpose": "sign_in"})
    with pytest.raises(sms.SmsRateLimited) as caught:
        sms.send(PHONE, "otp", {"code": "2", "minutes": 5, "purpose": "sign_in"})
    assert 0 < caught.value.retry_after <= 60
    assert "秒后再试" in str(caught.value.message)
    sms.send("13912345678", "otp", {"code": "3", "minutes": 5, "purpose": "sign_in"})
    with later(61):
        sms.send(PHONE, "otp", {"code": "4", "minutes": 5, "purpose": "sign_in"})


def test_at_most_ten_messages_a_day_per_phone() -> None:
    for n in range(sms.PER_DAY):
        with later(61 * n):
            sms.send(PHONE, "otp", {"code": str(n), "minutes": 5, "purpose": "sign_in"})
    with later(61 * sms.PER_DAY), pytest.raises(sms.SmsRateLimited) as caught:
        sms.send(PHONE, "otp", {"code": "x", "minutes": 5, "purpose": "sign_in"})
    assert caught.value.retry_after > 3600
    assert "次数已达上限" in str(caught.value.message)
    with later(86400 + 61 * sms.PER_DAY):
        sms.send(PHONE, "otp", {"code": "y", "minutes": 5, "purpose": "sign_in"})


def test_a_bad_number_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValidationError):
        sms.send("12345", "otp", {"code": "1", "minutes": 5, "purpose": "sign_in"})
    assert not sms.outbox_path().exists()


def test_an_unknown_gateway_is_a_configuration_error(settings) -> None:
    settings.YIWANG_SMS_GATEWAY = "carrier-pigeon"
    with pytest.raises(ImproperlyConfigured):
        sms.get_gateway()


def test_a_registered_gateway_is_used_and_its_failures_are_audited(settings) -> None:
    sent = []

    @sms.register_gateway("test-failing")
    class Failing(sms.SmsGateway):
        def send(self, phone, template, text, params):
            sent.append(phone)
            raise sms.SmsError(detail="carrier said no")

    settings.YIWANG_SMS_GATEWAY = "test-failing"
    try:
        with pytest.raises(sms.SmsError) as caught:
            sms.send(PHONE, "otp", {"code": "1", "minutes": 5, "purpose": "sign_in"})
    finally:
        sms._gateways.pop("test-failing", None)
    assert sent == [PHONE]
    assert "短信发送失败" in str(caught.value.message)
    assert AuditEvent.objects.filter(action="identity.sms_failed").count() == 1


def test_an_unwritable_outbox_is_an_sms_error(settings, tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    settings.DATA_DIR = blocker  # sms/ cannot be made under a file
    with pytest.raises(sms.SmsError):
        sms.send(PHONE, "otp", {"code": "1", "minutes": 5, "purpose": "sign_in"})


def test_templates_render_in_the_active_language() -> None:
    from django.utils import translation

    with translation.override("zh-hans"):
        text = sms.render("otp", {"code": "123456", "minutes": 5, "purpose": "register"})
    assert "验证码" in text and "注册" in text
    with pytest.raises(sms.SmsError):
        sms.render("no-such-template", {})
