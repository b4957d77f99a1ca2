"""The catalogue in unified search: a matter and its FAQs are found once published and
gone once withdrawn, in the transaction of the change."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.support.search import service as search

pytestmark = pytest.mark.django_db


def test_a_published_matter_is_found_and_unpublishing_takes_it_out(db: Any) -> None:
    from yiwang.industry.services import service as catalogue
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions.testing import CITY, make_chain

    make_chain(geometry=False)
    orgs.create_department("scjg", "示例市市场监督管理局", region_code=CITY)
    matter = catalogue.create_matter(
        code="339900-scjg-xk-099", name="食品小作坊登记", department_code="scjg",
        audience="legal", summary="从事食品小作坊生产加工的登记。",
        faq=[{"q": "小作坊要办什么证?", "a": "办理食品小作坊登记证。"}])
    assert search.search("食品小作坊").total == 0  # not published yet
    catalogue.publish_matter(matter)
    found = search.search("食品小作坊")
    assert {i["key"] for i in found.items} == {"service:339900-scjg-xk-099",
                                               "faq:339900-scjg-xk-099:0"}
    catalogue.unpublish_matter(matter)
    assert search.search("食品小作坊").total == 0


def test_the_assistant_learns_a_published_matter_from_a_background_job(
        db: Any, settings: Any) -> None:
    from yiwang.core.tasks.service import run_pending
    from yiwang.industry.services import service as catalogue
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions.testing import CITY, make_chain
    from yiwang.support.assistant import service as assistant

    settings.YIWANG_ASSISTANT_ENCODER = "none"  # the job, not the model, is under test
    make_chain(geometry=False)
    orgs.create_department("scjg", "示例市市场监督管理局", region_code=CITY)
    matter = catalogue.create_matter(
        code="339900-scjg-xk-098", name="食品小作坊登记", department_code="scjg",
        audience="legal", summary="从事食品小作坊生产加工的登记。",
        faq=[{"q": "小作坊要办什么证?", "a": "办理食品小作坊登记证。"}])
    source = "service:339900-scjg-xk-098"
    catalogue.publish_matter(matter)
    # the request only queued the work: no passage yet, the search document at once
    assert not assistant.Passage.objects.filter(source=source).exists()
    assert search.search("食品小作坊").total == 2
    while run_pending(isolated=False):
        pass
    passages = assistant.Passage.objects.filter(source=source)
    assert passages.count() >= 2 and any("小作坊要办什么证" in p.text for p in passages)
    # withdrawn: out of the assistant at once, and the job finds nothing to put back
    catalogue.unpublish_matter(matter)
    assert not assistant.Passage.objects.filter(source=source).exists()
    while run_pending(isolated=False):
        pass
    assert not assistant.Passage.objects.filter(source=source).exists()
