"""Internal units (科室): the holder of a department's leading position handles its units'
inboxes; an ordinary member of the department only their own unit's."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from yiwang.industry.applications import service as applications
from yiwang.industry.applications.tests.conftest import (
    form_data,
    make_official,
    plain_png,
    publish_matter,
    submitted,
    upload,
)
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions import testing as regions_testing

pytestmark = pytest.mark.django_db
UNIT = "gaj-zak"


@pytest.fixture
def unit_matter(city: Any) -> Any:
    orgs.create_department(UNIT, "治安管理科", region_code=regions_testing.CITY,
                           parent_code="gaj")
    orgs.create_position(UNIT, "clerk", "科员")
    orgs.create_position("gaj", "head", "局长")
    orgs.create_position("gaj", "deputy", "副局长")
    orgs.order_positions("gaj", ["head", "deputy"])
    return publish_matter(flow={"version": 1, "steps": [
        {"kind": "task", "id": "check", "name": "科室审查", "department": UNIT,
         "position": "clerk", "days": 2},
        {"kind": "task", "id": "decide", "name": "科室决定", "department": UNIT,
         "position": None, "days": 2}]}, licence={})


def test_the_leader_of_the_department_handles_its_units_inbox(
        unit_matter: Any, citizen: Any, officer: Any) -> None:
    head = make_official("gaj.head", "gaj", position="head")
    clerk = make_official("zak.clerk", UNIT, position="clerk")
    app = submitted(citizen)
    task = applications.open_tasks(app)[0]
    assert task.department_code == UNIT and task.position_code == "clerk"
    assert applications.inbox(clerk).count == 1
    assert applications.inbox(head).count == 1  # the unit's task, whatever its position
    assert applications.may_act_on_task(head, task)
    assert applications.application_for_official(head, app.pk).pk == app.pk
    applications.claim_task(head, task.pk, app.row_version)
    app.refresh_from_db()
    app = applications.decide_task(head, task.pk, "approve", "", app.row_version)
    nxt = applications.open_tasks(app)[0]
    assert applications.inbox(head).rows[0]["pk"] == nxt.pk


def test_ordinary_members_see_only_their_own_unit(unit_matter: Any, citizen: Any,
                                                  officer: Any) -> None:
    deputy = make_official("gaj.deputy", "gaj", position="deputy")
    app = submitted(citizen)
    task = applications.open_tasks(app)[0]
    for member in (officer, deputy):  # no position, and a position that does not lead
        assert applications.inbox(member).count == 0
        assert not applications.may_act_on_task(member, task)
        with pytest.raises(PermissionDenied):
            applications.claim_task(member, task.pk, app.row_version)
    # A member of the unit does not handle the parent department's other applications.
    clerk = make_official("zak.clerk", UNIT, position="clerk")
    publish_matter("339900-gaj-0002", licence={})  # the department's own two-step flow
    draft = applications.save_draft(citizen, "339900-gaj-0002", form_data(citizen))
    applications.attach_upload(citizen, draft, "id_card", upload(citizen, plain_png()))
    bureau_app = applications.submit_application(citizen, draft)
    assert applications.open_tasks(bureau_app)[0].department_code == "gaj"
    assert not applications.may_handle(clerk, bureau_app)
    assert applications.may_handle(officer, bureau_app)
    assert applications.may_handle(clerk, app)  # its task is in the unit
