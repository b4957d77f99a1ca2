"""Invalidate the grid index when a grid is saved or deleted through the ORM."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from yiwang.platform.regions import index
from yiwang.platform.regions.models import Grid


def on_grid_change(sender: type[Grid], **kwargs: Any) -> None:
    index.grids_changed()


def connect() -> None:
    post_save.connect(on_grid_change, sender=Grid, dispatch_uid="yiwang.regions.grid_save")
    post_delete.connect(on_grid_change, sender=Grid, dispatch_uid="yiwang.regions.grid_delete")
