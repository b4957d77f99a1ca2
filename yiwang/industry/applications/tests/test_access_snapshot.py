"""An official's rights (办理办件 and the scope from their memberships) are kept per process
against the account's ``access_version``: no queries for them once known, and every change —
a membership ended, a group's permission withdrawn, the leading position or a unit changed —
is seen on the very next request, also by a process that still holds the old snapshot
(simulated here by putting that process's snapshots back after the change)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from yiwang.industry.applications import access
from yiwang.industry.applications.tests.conftest import make_official, submitted
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions import testing as regions_testing
from yiwang.support.identity.testing import OtherProcess, sign_in_client

pytestmark = pytest.mark.django_db
BASE = "/api/v1/applications"
UNIT = "gaj-zak"


def fresh(user: Any) -> Any:
    """The account as a new request loads it."""
    return get_user_model().objects.get(pk=user.pk)


def handle_permission() -> Permission:
    return Permission.objects.get(content_type__app_label="applications",
                                  codename="handle_application")


def test_a_known_officials_rights_cost_no_query(
        version: Any, officer: Any, django_assert_num_queries: Any) -> None:
    assert access.official_scope(fresh(officer)).departments == ("gaj",)
    user = fresh(officer)
    with django_assert_num_queries(0):
        assert access.is_official(user)
        assert access.official_scope(user).departments == ("gaj",)


def test_claim_query_count(internal_client: Any, version: Any, citizen: Any, officer: Any,
                           django_assert_max_num_queries: Any) -> None:
    """The claim step: session, account session with the account, the task, then the
    claim's writes — no permission or membership query once the official is known."""
    app = submitted(citizen)
    sign_in_client(internal_client, officer)
    task = internal_client.get(f"{BASE}/inbox").json()["items"][0]["task"]
    with django_assert_max_num_queries(10):
        claimed = internal_client.post(f"{BASE}/tasks/{task}/claim",
                                       {"expected_version": app.row_version},
                                       content_type="application/json")
    assert claimed.status_code == 200, claimed.content


def test_a_membership_ended_is_refused_on_the_next_request(
        internal_client: Any, version: Any, citizen: Any, officer: Any) -> None:
    app = submitted(citizen)
    sign_in_client(internal_client, officer)
    assert internal_client.get(f"{BASE}/inbox").json()["count"] == 1
    assert internal_client.get(f"{BASE}/{app.pk}").status_code == 200
    with OtherProcess():
        membership = orgs.memberships_of(officer).get()
        orgs.end_membership(membership, ended_on=membership.started_on)
    listed = internal_client.get(f"{BASE}/inbox")
    assert listed.status_code == 403 or listed.json()["count"] == 0
    assert internal_client.get(f"{BASE}/{app.pk}").status_code in (403, 404)


def test_a_groups_permission_withdrawn_is_refused_on_the_next_request(
        internal_client: Any, version: Any, citizen: Any, officer: Any) -> None:
    officer.user_permissions.clear()
    group = Group.objects.create(name="办件办理人员")
    group.permissions.add(handle_permission())
    officer.groups.add(group)
    app = submitted(citizen)
    sign_in_client(internal_client, officer)
    assert internal_client.get(f"{BASE}/inbox").json()["count"] == 1
    with OtherProcess():
        group.permissions.remove(handle_permission())
    listed = internal_client.get(f"{BASE}/inbox")
    assert listed.status_code == 403 or listed.json()["count"] == 0
    assert internal_client.get(f"{BASE}/{app.pk}").status_code in (403, 404)


@pytest.mark.parametrize("change", ["group_deleted", "left_group", "permission_via_reverse"])
def test_other_ways_of_losing_the_permission(officer: Any, city: Any, change: str) -> None:
    officer.user_permissions.clear()
    group = Group.objects.create(name="办件办理人员")
    group.permissions.add(handle_permission())
    officer.groups.add(group)
    assert access.is_official(fresh(officer))
    with OtherProcess():
        if change == "group_deleted":
            group.delete()
        elif change == "left_group":
            group.user_set.remove(officer)
        else:
            handle_permission().group_set.clear()
    assert not access.is_official(fresh(officer))


def test_a_stale_copy_of_the_account_saved_does_not_bring_back_old_rights(
        version: Any, officer: Any) -> None:
    stale = fresh(officer)
    assert access.official_scope(stale).departments == ("gaj",)
    with OtherProcess():
        orgs.add_member(officer, "scjg")
    stale.display_name = "改名"
    stale.save()
    assert fresh(officer).access_version != stale.access_version
    assert access.official_scope(fresh(officer)).departments == ("gaj", "scjg")


def test_the_leading_position_and_the_units_are_followed(city: Any) -> None:
    orgs.create_department(UNIT, "治安管理科", region_code=regions_testing.CITY,
                           parent_code="gaj")
    orgs.create_position("gaj", "head", "局长")
    orgs.create_position("gaj", "deputy", "副局长")
    orgs.order_positions("gaj", ["head", "deputy"])
    head = make_official("gaj.head", "gaj", position="head")
    assert access.official_scope(fresh(head)).supervised == (UNIT,)
    with OtherProcess():
        orgs.order_positions("gaj", ["deputy", "head"])
    assert access.official_scope(fresh(head)).supervised == ()
    with OtherProcess():
        orgs.order_positions("gaj", ["head", "deputy"])
    assert access.official_scope(fresh(head)).supervised == (UNIT,)
    with OtherProcess():
        unit = orgs.get_department(UNIT)
        assert unit is not None
        unit.active = False
        unit.save()
    assert access.official_scope(fresh(head)).supervised == ()


def test_a_membership_given_to_another_account_is_lost_by_its_former_holder(
        city: Any) -> None:
    """Review 2026-11-28 M1: the admin can change a membership's holder; the account that
    held it loses the department on its next request."""
    first = make_official("gaj.first", "gaj")
    second = make_official("scjg.second", "scjg")
    assert access.official_scope(fresh(first)).departments == ("gaj",)
    with OtherProcess():
        membership = orgs.Membership.objects.get(user=first, department__code="gaj")
        membership.user = second
        membership.save()
    assert access.official_scope(fresh(first)).departments == ()
    assert access.official_scope(fresh(second)).departments == ("gaj", "scjg")


def test_a_position_moved_to_another_department_renews_its_old_departments_members(
        city: Any) -> None:
    orgs.create_position("gaj", "head", "局长")
    head = make_official("gaj.head", "gaj", position="head")
    before = fresh(head).access_version
    position = orgs.Position.objects.get(department__code="gaj", code="head")
    position.department = orgs.get_department("scjg")
    position.save()
    assert fresh(head).access_version != before
