"""With a real (slow, remote) SMS gateway, codes go out through the worker, and numbers
without an account cost the request exactly the same work: no timing oracle."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from yiwang.core.tasks import service as tasks
from yiwang.support.identity import otp, sms
from yiwang.support.identity.models import CodePurpose
from yiwang.support.identity.tests.test_signin_support import make_citizen

pytestmark = pytest.mark.django_db

sent: list[tuple[str, str]] = []


@sms.register_gateway("test-remote")
class RemoteGateway(sms.SmsGateway):
    def send(self, phone: str, template: str, text: str, params: Any) -> str:
        sent.append((phone, str(params.get("code"))))
        return f"remote-{len(sent)}"


@override_settings(YIWANG_SMS_GATEWAY="test-remote")
def test_known_and_unknown_numbers_both_queue_one_sealed_job(monkeypatch) -> None:
    sent.clear()
    queued: list[tuple[Any, ...]] = []
    original = tasks.enqueue

    def spy(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        queued.append((name, *args))
        return original(name, *args, **kwargs)

    monkeypatch.setattr(tasks, "enqueue", spy)
    make_citizen(phone="13812345678")
    otp.issue("13812345678", CodePurpose.SIGN_IN, deliver=True)
    otp.issue("13887654321", CodePurpose.SIGN_IN, deliver=False)
    assert sent == []  # nothing sent inside the request
    assert [q[0] for q in queued] == ["identity.deliver_sms", "identity.deliver_sms"]
    for _name, *args in queued:  # neither the number nor the code in clear in the job
        assert "1381234" not in str(args) and "1388765" not in str(args)
    assert len(tasks.list_recent(name="identity.deliver_sms")) == 2
    tasks.run_pending(isolated=False)
    assert [phone for phone, _code in sent] == ["13812345678"]  # the decoy sent nothing
    assert otp.verify("13812345678", CodePurpose.SIGN_IN, sent[0][1])
