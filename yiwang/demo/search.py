"""Demo unified search and assistant: the default synonyms, the search editors (group
搜索运营: the service centre's head, who keeps the synonyms and reads the queries that found
nothing), the assistant's human agents (group 客服坐席: the service centre's window staff),
and a full rebuild of the index from every module — the catalogue, 政务公开 and credit
publicity are indexed as they are written, so the rebuild changes nothing on a rerun. The
catalogue's assistant passages are encoded by background jobs, run here so the demo's
assistant knows every guide when the platform starts."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import Group, Permission

from yiwang.platform.orgs import service as orgs
from yiwang.support.search import service as search

Progress = Callable[[str, int], Callable[[int], None]]
EDITORS = "搜索运营"
AGENTS = "客服坐席"


def load_search(progress: Progress) -> dict[str, int]:
    tick = progress("统一搜索 search", 3)
    synonyms = search.load_synonyms()
    tick(1)
    group, _created = Group.objects.get_or_create(name=EDITORS)
    group.permissions.add(Permission.objects.get(content_type__app_label="search",
                                                 codename="manage_search"))
    agents, _created = Group.objects.get_or_create(name=AGENTS)
    agents.permissions.add(*Permission.objects.filter(
        content_type__app_label="assistant", codename__in=["answer_chat", "view_unanswered"]))
    for membership in orgs.members_of("zwfw"):
        position = membership.position.code if membership.position is not None else ""
        if position == "head":
            group.user_set.add(membership.user)
            agents.user_set.add(membership.user)
        elif position == "window":
            agents.user_set.add(membership.user)
    tick(1)
    counts = search.reindex()
    counts["passage_jobs"] = _run_passage_jobs()
    tick(1)
    return {"synonyms": synonyms, **counts}


def _run_passage_jobs() -> int:
    """The queued ``services.sync_passages`` jobs (queue ``knowledge``), run in this process
    with the database backend; with Celery the workers run them."""
    from django.conf import settings

    from yiwang.core.tasks.service import run_pending

    if settings.YIWANG_TASKS_BACKEND != "database":
        return 0
    total = 0
    while (ran := run_pending(200, queues=["knowledge"], isolated=False)):
        total += ran
    return total
