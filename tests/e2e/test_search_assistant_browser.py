"""统一搜索 and 智能客服 end to end on the demo server, in headless Chromium: a visitor types
pinyin initials into the home page's search box and picks a suggestion, searches a
colloquial question and sees highlighted results with facets; opens the chat widget, asks,
gets an answer linking to the guide, asks for a person; an agent of the service centre takes
the conversation on the workbench and answers, and the answer appears in the visitor's
widget. Screenshots: var/artifacts/e2e/search/.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.e2e.conftest import ROOT, Server, chromium
from tests.e2e.identity_steps import sign_in_official, wait_for

pytestmark = pytest.mark.e2e
AGENT = "zwfw.head1"  # the service centre's head is in the demo group 客服坐席


def _shot(browser: Any, name: str) -> None:
    folder = Path(os.environ.get("YIWANG_E2E_ARTIFACTS") or ROOT / "var" / "artifacts" / "e2e"
                  ) / "search"
    folder.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(folder / f"{name}.png"))


def _testid(browser: Any, name: str) -> Any:
    return browser.find_element(By.CSS_SELECTOR, f"[data-testid='{name}']")


def _messages(browser: Any, role: str) -> list[Any]:
    return browser.find_elements(By.CSS_SELECTOR,
                                 f"[data-testid='chat-panel-log'] [data-role='{role}']")


def test_search_suggestions_and_the_assistant_with_a_person(server: Server) -> None:
    with chromium() as visitor:
        visitor.get(server.public + "/")
        box = wait_for(lambda: visitor.find_element(By.ID, "home-search"), "the search box")
        box.send_keys("wfzjl")
        option = wait_for(lambda: visitor.find_element(
            By.CSS_SELECTOR, "#home-search-list [role='option']"), "a suggestion")
        assert "无犯罪记录证明" in option.text
        _shot(visitor, "01-suggestions")
        box.send_keys(Keys.ARROW_DOWN, Keys.ENTER)
        wait_for(lambda: "/services/" in visitor.current_url, "the suggested guide")
        visitor.get(server.public + "/search/?q=" + "孩子刚出生要办什么")
        hits = wait_for(lambda: visitor.find_elements(
            By.CSS_SELECTOR, "[data-testid='search-hit']"), "results")
        assert any("出生" in h.text for h in hits[:3])
        assert visitor.find_elements(By.CSS_SELECTOR, "[data-testid='search-hit'] mark")
        _shot(visitor, "02-results")
        _testid(visitor, "chat-open").click()
        field = wait_for(lambda: visitor.find_element(By.ID, "chat-panel-text"), "the chat")
        field.send_keys("营业执照丢了怎么办" + Keys.ENTER)
        answer = wait_for(lambda: (_messages(visitor, "bot") or [None])[-1],
                          "the assistant's answer")
        assert answer.find_elements(By.CSS_SELECTOR, "a[href^='/services/']"), answer.text
        _shot(visitor, "03-answer")
        _testid(visitor, "chat-panel-human").click()
        wait_for(lambda: [m for m in _messages(visitor, "system") if "人工" in m.text],
                 "the hand-over")
        with chromium() as agent:
            sign_in_official(server, agent, AGENT)
            agent.get(server.internal + "/assistant/")
            row = wait_for(lambda: (agent.find_elements(
                By.CSS_SELECTOR, "[data-testid='waiting-row'] a") or [None])[-1],
                "the waiting visitor")
            row.click()
            transcript = wait_for(lambda: _testid(agent, "transcript"), "the conversation")
            assert "营业执照丢了怎么办" in transcript.text
            _testid(agent, "take").click()
            reply = wait_for(lambda: agent.find_element(By.ID, "reply"), "the reply box")
            reply.send_keys("您好,营业执照遗失后可以在网上申请补领,无需登报。")
            _testid(agent, "reply").click()
            wait_for(lambda: "无需登报" in _testid(agent, "transcript").text, "the reply sent")
            _shot(agent, "04-agent")
        said = wait_for(lambda: [m for m in _messages(visitor, "agent") if "无需登报" in m.text],
                        "the agent's reply in the widget", timeout=30)
        assert said
        _shot(visitor, "05-agent-reply")
