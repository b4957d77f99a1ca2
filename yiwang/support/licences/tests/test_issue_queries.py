"""How many queries issuing a licence takes once the department's keys and status lists
exist (the steady state of approvals): each step is cheaper when it shares queries, and
this keeps the count from growing back unnoticed."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.support.licences import service as licences
from yiwang.support.licences.tests.conftest import RECORD_FIELDS

pytestmark = pytest.mark.django_db

# Type; the holder from the account (the base registry only when it has no name); the seal
# and its standing authorisation with its department (the custodian's
# account and keeping of the seal in the same query) and the custodian's membership; the
# serial (one UPDATE … RETURNING); both keys in one query; status lists locked together,
# a free index on each, their counters in one UPDATE; three signatures (each reads its key
# row); the authorisation locked again with the same checks, the seal's chain, its use and
# audit event; one ledger append for the seal use and the licence; the licence, its audit
# events. The membership check and audit/ledger writes belong to other apps.
MAX_QUERIES = 30


def issue(citizen: Any, police: Any) -> licences.Licence:
    return licences.issue_licence("no_criminal_record", holder=citizen, fields=RECORD_FIELDS,
                                  department_code="gaj", actor=police)


def test_a_licence_is_issued_in_a_fixed_number_of_queries(citizen: Any, police: Any) -> None:
    issue(citizen, police)  # makes the keys, certificates and status lists
    with CaptureQueriesContext(connection) as ctx:
        issue(citizen, police)
    # PostgreSQL locks the ledger's head row (SELECT … FOR UPDATE); SQLite's IMMEDIATE
    # transaction already holds the write lock
    assert len(ctx.captured_queries) <= MAX_QUERIES + (connection.vendor == "postgresql")
