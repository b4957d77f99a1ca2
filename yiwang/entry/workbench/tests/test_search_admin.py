"""统一搜索 operations on the workbench: synonyms that change what people find, queries that
found nothing, and who may see the page."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.support.credit.testing import officer
from yiwang.support.identity.testing import sign_in_client
from yiwang.support.search import service as search

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(db: Any) -> Any:
    from yiwang.platform.orgs import service as orgs
    from yiwang.platform.regions.testing import CITY, make_chain

    search.forget_synonyms()
    make_chain(geometry=False)
    orgs.create_department("zwfw", "示例市政务服务中心", region_code=CITY)
    search.index_documents([search.DocumentInput(
        key="service:wfz", kind="service", title="无犯罪记录证明开具", body="",
        url="/services/wfz/")])
    return officer("zwfw.editor", "zwfw", "search.manage_search")


def test_an_editor_adds_a_synonym_and_people_find_the_service(internal_client: Any,
                                                              editor: Any) -> None:
    search.search("良民证")
    sign_in_client(internal_client, editor)
    page = internal_client.get("/search-admin/").content.decode()
    assert 'data-testid="miss"' in page and "良民证" in page
    bad = internal_client.post("/search-admin/", {"term": "良民证", "targets": ""})
    assert bad.status_code == 400 and "同义词" in bad.content.decode()
    saved = internal_client.post("/search-admin/", {"term": "良民证", "targets": "无犯罪记录证明"})
    assert saved.status_code == 302
    assert [i["key"] for i in search.search("良民证").items] == ["service:wfz"]
    tried = internal_client.get("/search-admin/", {"try": "良民证"}).content.decode()
    assert "无犯罪记录证明开具" in tried
    internal_client.post("/search-admin/delete/", {"term": "良民证"})
    search.forget_synonyms()
    assert search.search("良民证").total == 0


def test_only_search_editors_reach_the_page(internal_client: Any, editor: Any) -> None:
    other = officer("zwfw.clerk", "zwfw")
    sign_in_client(internal_client, other)
    assert internal_client.get("/search-admin/").status_code == 403
    assert internal_client.post("/search-admin/", {"term": "x", "targets": "y"}
                                ).status_code == 403
    assert not search.synonym_rows()
