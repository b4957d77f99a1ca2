"""Each test starts without another test's synonyms in this process's table."""

from __future__ import annotations

import pytest

from yiwang.support.search import service as search


@pytest.fixture(autouse=True)
def _no_synonyms_of_other_tests() -> None:
    search.forget_synonyms()
