"""With a real (slow, remote) SMS gateway, codes go out through the worker, and numbers
without an account cost the request exactly the same work: no timing oracle."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from yiwang.core.tasks.models import Job
from yiwang.core.tasks.service import run_pending
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
def test_known_and_unknown_numbers_both_queue_one_sealed_job() -> None:
    sent.clear()
    make_citizen(phone="13812345678")
    otp.issue("13812345678", CodePurpose.SIGN_IN, deliver=True)
    otp.issue("13887654321", CodePurpose.SIGN_IN, deliver=False)
    assert sent == []  # nothing sent inside the request
    jobs = list(Job.objects.filter(name="identity.deliver_sms"))
    assert len(jobs) == 2
    for job in jobs:  # neither the number nor the code in clear in the job table
        assert "1381234" not in str(job.args) and "1388765" not in str(job.args)
    run_pending(isolated=False)
    assert [phone for phone, _code in sent] == ["13812345678"]  # the decoy sent nothing
    assert otp.verify("13812345678", CodePurpose.SIGN_IN, sent[0][1])
