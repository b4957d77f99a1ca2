"""Fixtures of the uploads tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """Stored uploads go to the test's own directory."""
    settings.DATA_DIR = tmp_path
    return tmp_path
