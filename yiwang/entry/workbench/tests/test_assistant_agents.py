"""智能客服's human agents on the workbench: the queue, taking a conversation (one agent
wins), answering the visitor, and who may see it."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.support.assistant import service as assistant
from yiwang.support.credit.testing import officer
from yiwang.support.identity.testing import sign_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(db: Any) -> Any:
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions.testing import CITY, make_chain

    make_chain(geometry=False)
    orgs.create_department("zwfw", "示例市政务服务中心", region_code=CITY)
    conversation = assistant.start()
    assistant.ask(conversation, "我的身份证号是 110101199003077777,怎么办社保卡")
    assistant.request_human(conversation)
    return conversation


def test_an_agent_takes_answers_and_closes(internal_client: Any, waiting: Any) -> None:
    agent = officer("zwfw.agent", "zwfw", "assistant.answer_chat")
    sign_in_client(internal_client, agent)
    queue = internal_client.get("/assistant/").content.decode()
    assert f'href="/assistant/{waiting.pk}/"' in queue
    page = internal_client.get(f"/assistant/{waiting.pk}/").content.decode()
    assert "怎么办社保卡" in page and 'data-testid="take"' in page
    internal_client.post(f"/assistant/{waiting.pk}/take/",
                         {"expected_version": waiting.row_version - 1})
    waiting.refresh_from_db()
    assert waiting.state == "waiting"  # a stale page does not take it
    internal_client.post(f"/assistant/{waiting.pk}/take/",
                         {"expected_version": waiting.row_version})
    internal_client.post(f"/assistant/{waiting.pk}/reply/", {"text": "请带身份证到窗口办理。"})
    said = [(m.role, m.text) for m in assistant.after(waiting)]
    assert said[-1] == ("agent", "请带身份证到窗口办理。")
    internal_client.post(f"/assistant/{waiting.pk}/close/")
    waiting.refresh_from_db()
    assert waiting.state == "closed"


def test_officials_without_the_permission_are_refused(internal_client: Any,
                                                      waiting: Any) -> None:
    sign_in_client(internal_client, officer("zwfw.clerk", "zwfw"))
    assert internal_client.get("/assistant/").status_code == 403
    assert internal_client.get(f"/assistant/{waiting.pk}/").status_code == 403
    assert internal_client.post(f"/assistant/{waiting.pk}/take/").status_code == 403
    waiting.refresh_from_db()
    assert waiting.state == "waiting"
