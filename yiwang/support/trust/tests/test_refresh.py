"""Automatic refresh of imported trust lists: the partner serves its list from a real HTTP
server on 127.0.0.1 (loopback is allowed for outbound fetches in the test settings); a
newer version under the pinned root is imported, anything else leaves the current import
in place and is audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from yiwang.core import testserver
from yiwang.core.audit import service as audit
from yiwang.support.identity.testing import sign_in_client
from yiwang.support.trust import refresh, tasks
from yiwang.support.trust import service as trust
from yiwang.support.trust.models import ImportedTrustList
from yiwang.support.trust.tests.conftest import ForeignList, make_foreign_list
from yiwang.support.trust.tests.test_workbench import official

pytestmark = pytest.mark.django_db

SZ = "440300000000"
LIST_PATH = "/trust/list.json"


class Partner(testserver.LocalOrigin):
    """Another region's instance on 127.0.0.1."""

    def publish(self, raw: bytes) -> None:
        self.pages[LIST_PATH] = raw


def _serve() -> Partner:
    return testserver.serve(kind=Partner)


@pytest.fixture
def partner(settings: Any) -> Iterator[Partner]:
    settings.YIWANG_TRUST_REFRESH_ALLOW = ["127.0.0.1/32"]
    settings.YIWANG_TRUST_REFRESH_TIMEOUT = 5.0
    found = _serve()
    yield found
    found.stop()


def _next(first: ForeignList, partner: Partner, *, sequence: int,
          issued: Any = None) -> ForeignList:
    """A later version of ``first``'s list: same root, same signer, same licence key."""
    return make_foreign_list(sequence=sequence, base=partner.base, root_key=first.root_key,
                             root_der=first.root_der, list_key=first.list_key,
                             list_cert=first.list_cert, licence_key=first.licence_key,
                             issued=issued or timezone.now())


@pytest.fixture
def imported(city: Any, partner: Partner) -> ForeignList:
    """深圳市's first list, issued an hour ago, imported by hand from the partner's base."""
    first = make_foreign_list(sequence=1, base=partner.base,
                              issued=timezone.now() - timedelta(hours=1))
    trust.import_trust_list(first.raw, fingerprint=first.fingerprint)
    return first


def _current(region: str = SZ) -> ImportedTrustList:
    return ImportedTrustList.objects.get(region_code=region, superseded_at__isnull=True)


def _events(action: str) -> list[Any]:
    return list(audit.search(audit.AuditFilter(action=action)).filter(action=action))


def test_the_source_url_is_derived_from_the_lists_key_ids(imported: ForeignList,
                                                          partner: Partner) -> None:
    assert _current().source_url == f"{partner.base}/trust/list.json"
    assert refresh.refreshable() == [_current()]


def test_a_newer_list_is_imported_and_supersedes_the_old(imported: ForeignList,
                                                         partner: Partner) -> None:
    second = _next(imported, partner, sequence=2)
    partner.publish(second.raw)
    summary = tasks.refresh_imported_lists()["regions"]
    assert summary[SZ]["outcome"] == "refreshed" and summary[SZ]["sequence"] == 2, summary
    assert partner.hits == [LIST_PATH]
    current = _current()
    assert current.sequence == 2 and bytes(current.document) == second.raw
    assert current.source_url == f"{partner.base}/trust/list.json"
    assert current.last_refresh_outcome == "refreshed" and current.last_refresh_at is not None
    old = ImportedTrustList.objects.get(region_code=SZ, sequence=1)
    assert old.superseded_at is not None
    [event] = _events("trust.list_refreshed")
    assert event.detail["sequence"] == 2 and event.detail["previous_sequence"] == 1
    assert trust.resolve_key(second.vm_id) is not None
    assert _events("trust.refresh_failed") == [] and _events("trust.refresh_refused") == []


def test_an_expired_import_is_brought_back_by_the_refresh(imported: ForeignList,
                                                          partner: Partner) -> None:
    ImportedTrustList.objects.filter(region_code=SZ).update(
        next_update=timezone.now() - timedelta(minutes=1))
    assert trust.resolve_key(imported.vm_id) is None  # expired: trusted no more
    partner.publish(_next(imported, partner, sequence=2).raw)
    assert trust.refresh_imported_lists()[SZ]["outcome"] == "refreshed"
    assert trust.resolve_key(imported.vm_id) is not None


def test_the_same_list_again_is_unchanged_and_not_audited(imported: ForeignList,
                                                          partner: Partner) -> None:
    partner.publish(imported.raw)
    result = trust.refresh_region(SZ)
    assert (result.outcome, result.sequence, result.ok) == ("unchanged", 1, True)
    assert _current().sequence == 1 and _current().last_refresh_outcome == "unchanged"
    assert _events("trust.refresh_failed") == [] and _events("trust.refresh_refused") == []


def test_an_older_list_never_replaces_a_newer_one(imported: ForeignList,
                                                  partner: Partner) -> None:
    second = _next(imported, partner, sequence=2)
    trust.import_trust_list(second.raw, fingerprint=second.fingerprint)
    partner.publish(imported.raw)  # a replay of version 1
    result = trust.refresh_region(SZ)
    assert (result.outcome, result.reason) == ("refused", "sequence")
    assert "第 2 版" in result.message
    assert _current().sequence == 2 and bytes(_current().document) == second.raw
    [event] = _events("trust.refresh_refused")
    assert event.detail["reason"] == "sequence"
    assert event.detail["url"] == f"{partner.base}/trust/list.json"


def test_another_document_with_the_same_sequence_is_refused(imported: ForeignList,
                                                            partner: Partner) -> None:
    partner.publish(_next(imported, partner, sequence=1).raw)
    result = trust.refresh_region(SZ)
    assert (result.outcome, result.reason) == ("refused", "sequence")
    assert bytes(_current().document) == imported.raw


def test_a_higher_sequence_issued_earlier_is_refused(imported: ForeignList,
                                                     partner: Partner) -> None:
    partner.publish(_next(imported, partner, sequence=2,
                          issued=timezone.now() - timedelta(hours=2)).raw)
    result = trust.refresh_region(SZ)
    assert (result.outcome, result.reason) == ("refused", "not_newer")
    assert _current().sequence == 1
    assert [e.detail["reason"] for e in _events("trust.refresh_refused")] == ["not_newer"]


def test_a_list_under_another_root_is_refused_and_audited(imported: ForeignList,
                                                          partner: Partner) -> None:
    impostor = make_foreign_list(sequence=2, base=partner.base)  # a new root key
    partner.publish(impostor.raw)
    result = trust.refresh_region(SZ)
    assert (result.outcome, result.reason) == ("refused", "root_changed")
    assert "从不更换根证书" in result.message
    current = _current()
    assert current.sequence == 1 and current.last_refresh_outcome == "refused"
    assert "从不更换根证书" in current.last_refresh_message
    [event] = _events("trust.refresh_refused")
    assert event.detail == {"region": SZ, "url": f"{partner.base}/trust/list.json",
                            "reason": "root_changed", "sequence": 1}
    assert trust.resolve_key(impostor.kid) is None  # the impostor's key is not trusted
    assert trust.resolve_key(imported.kid) is not None
    # The admin can still import it by hand, confirming the change.
    with pytest.raises(trust.RootChanged):
        trust.import_trust_list(impostor.raw, fingerprint=impostor.fingerprint)


def _tampered(raw: bytes) -> bytes:
    tampered = raw.replace("深圳市市场监督管理局".encode(), "深圳市市场监督管理处".encode(), 1)
    assert tampered != raw
    return tampered


@pytest.mark.parametrize(("serve", "reason"), [
    ("nothing", "fetch:status"),
    ("garbage", "malformed"),
    ("not-an-object", "malformed"),
    ("tampered", "signature"),
    ("oversize", "fetch:too_large"),
    ("down", "fetch:connect"),
])
def test_a_failed_refresh_leaves_the_current_import(imported: ForeignList, partner: Partner,
                                                    settings: Any, serve: str,
                                                    reason: str) -> None:
    second = _next(imported, partner, sequence=2)
    if serve == "garbage":
        partner.publish(b"{not json at all")
    elif serve == "not-an-object":
        partner.publish(b"[1, 2, 3]")
    elif serve == "tampered":
        partner.publish(_tampered(second.raw))
    elif serve == "oversize":
        partner.publish(second.raw)
        settings.YIWANG_TRUST_LIST_MAX_BYTES = 1000
    elif serve == "down":
        partner.stop()
    result = trust.refresh_region(SZ)
    assert (result.outcome, result.reason) == ("failed", reason), result
    current = _current()
    assert current.sequence == 1 and bytes(current.document) == imported.raw
    assert current.last_refresh_outcome == "failed" and current.last_refresh_message
    assert trust.resolve_key(imported.vm_id) is not None
    [event] = _events("trust.refresh_failed")
    assert event.detail["reason"] == reason and event.detail["region"] == SZ


def test_one_failing_region_does_not_stop_the_others(imported: ForeignList,
                                                     partner: Partner) -> None:
    other = _serve()
    try:
        bj1 = make_foreign_list(region="110100000000", name="北京市", base=other.base,
                                issued=timezone.now() - timedelta(hours=1))
        trust.import_trust_list(bj1.raw, fingerprint=bj1.fingerprint)
        other.publish(make_foreign_list(
            region="110100000000", name="北京市", base=other.base, sequence=2,
            root_key=bj1.root_key, root_der=bj1.root_der, list_key=bj1.list_key,
            list_cert=bj1.list_cert, licence_key=bj1.licence_key).raw)
        partner.publish(b"garbage")  # 深圳市 (refreshed first, by code order) fails
        summary = trust.refresh_imported_lists()
    finally:
        other.stop()
    assert summary[SZ]["outcome"] == "failed"
    assert summary["110100000000"]["outcome"] == "refreshed"
    assert _current("110100000000").sequence == 2 and _current(SZ).sequence == 1


def test_the_fetch_runs_outside_any_transaction(imported: ForeignList, partner: Partner,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    depth_here = len(connection.atomic_blocks)  # the test's own transaction
    depths: list[int] = []
    real = refresh.fetch_list

    def watched(url: str) -> bytes:
        depths.append(len(connection.atomic_blocks))
        return real(url)

    monkeypatch.setattr(refresh, "fetch_list", watched)
    partner.publish(_next(imported, partner, sequence=2).raw)
    assert trust.refresh_region(SZ).outcome == "refreshed"
    assert depths == [depth_here]


def test_a_region_without_a_source_url_is_not_fetched(city: Any, partner: Partner) -> None:
    first = make_foreign_list(base=partner.base)
    trust.import_trust_list(first.raw, fingerprint=first.fingerprint, source_url="")
    assert _current().source_url == ""
    assert trust.refresh_imported_lists() == {}
    result = trust.refresh_region(SZ)
    assert (result.outcome, result.reason) == ("failed", "no_source")
    assert partner.hits == []
    with pytest.raises(ValidationError):
        trust.refresh_region("110100000000")  # never imported


@pytest.mark.parametrize("url", [
    "ftp://sz.example.gov.cn/trust/list.json",
    "file:///etc/passwd",
    "https://user:secret@sz.example.gov.cn/trust/list.json",
    "https://user@sz.example.gov.cn/trust/list.json",
    "javascript:alert(1)",
    "https:///trust/list.json",
    "https://sz.example.gov.cn:99999/trust/list.json",
])
def test_a_source_url_with_credentials_or_another_scheme_is_refused(city: Any,
                                                                    url: str) -> None:
    first = make_foreign_list()
    with pytest.raises(ValidationError) as caught:
        trust.import_trust_list(first.raw, fingerprint=first.fingerprint, source_url=url)
    assert caught.value.code == "source_url"
    assert trust.list_imported() == []


def test_an_explicit_source_url_is_kept(city: Any) -> None:
    first = make_foreign_list()
    trust.import_trust_list(first.raw, fingerprint=first.fingerprint,
                            source_url=" https://cdn.sz.example.gov.cn/tl/list.json ")
    assert _current().source_url == "https://cdn.sz.example.gov.cn/tl/list.json"


# --- the workbench: 立即更新 -----------------------------------------------------------------

def test_the_button_refreshes_now_and_reports(imported: ForeignList, partner: Partner,
                                              internal_client: Any) -> None:
    sign_in_client(internal_client, official("list.admin", "scjg", trust.TRUST_LIST_PERMISSION))
    page = internal_client.get("/trust/lists/").content.decode()
    assert f"{partner.base}/trust/list.json" in page
    assert f'action="/trust/lists/{SZ}/refresh/"' in page and "立即更新" in page
    assert "csrfmiddlewaretoken" in page
    assert internal_client.get(f"/trust/lists/{SZ}/refresh/").status_code == 405
    partner.publish(_next(imported, partner, sequence=2).raw)
    response = internal_client.post(f"/trust/lists/{SZ}/refresh/", follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "已更新深圳市的信任列表，现为第 2 版" in text
    assert _current().sequence == 2
    [event] = _events("trust.list_refreshed")
    assert event.actor_label == "list.admin"
    # A refused refresh is reported as an error with its reason.
    partner.publish(make_foreign_list(sequence=3, base=partner.base).raw)
    text = internal_client.post(f"/trust/lists/{SZ}/refresh/", follow=True).content.decode()
    assert "未能更新" in text and "从不更换根证书" in text
    assert internal_client.post("/trust/lists/110100000000/refresh/").status_code == 404


def test_the_button_needs_the_permission(imported: ForeignList, partner: Partner,
                                         internal_client: Any) -> None:
    partner.publish(_next(imported, partner, sequence=2).raw)
    assert internal_client.post(f"/trust/lists/{SZ}/refresh/").status_code == 302  # sign in
    sign_in_client(internal_client, official("clerk", "scjg", "trust.manage_department_keys"))
    assert internal_client.post(f"/trust/lists/{SZ}/refresh/").status_code == 403
    assert partner.hits == [] and _current().sequence == 1


def test_the_import_form_takes_a_source_url(city: Any, internal_client: Any) -> None:
    sign_in_client(internal_client, official("list.admin", "scjg", trust.TRUST_LIST_PERMISSION))
    first = make_foreign_list()
    refused = internal_client.post("/trust/lists/", {
        "fingerprint": first.fingerprint, "pasted": first.raw.decode(),
        "source_url": "https://a:b@sz.example.gov.cn/trust/list.json"})
    assert refused.status_code == 400 and "不含用户名和密码" in refused.content.decode()
    done = internal_client.post("/trust/lists/", {
        "fingerprint": first.fingerprint, "pasted": first.raw.decode(),
        "source_url": "https://sz.example.gov.cn/trust/list.json"})
    assert done.status_code == 302
    assert _current().source_url == "https://sz.example.gov.cn/trust/list.json"


def test_regions_imported_before_get_their_source_url(imported: ForeignList,
                                                      partner: Partner) -> None:
    from importlib import import_module

    from django.apps import apps

    ImportedTrustList.objects.update(source_url="")
    migration = import_module("yiwang.support.trust.migrations.0005_backfill_source_url")
    migration.backfill(apps, None)
    assert _current().source_url == f"{partner.base}/trust/list.json"


def test_a_partner_that_stopped_publishing_is_a_failure_not_unchanged(
        city: Any, partner: Partner, monkeypatch: pytest.MonkeyPatch) -> None:
    first = make_foreign_list(base=partner.base, valid_days=1)
    trust.import_trust_list(first.raw, fingerprint=first.fingerprint)
    partner.publish(first.raw)  # still the same list, now past its nextUpdate
    later = timezone.now() + timedelta(days=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    result = trust.refresh_region(SZ)
    assert (result.outcome, result.reason) == ("failed", "expired"), result
    assert [e.detail["reason"] for e in _events("trust.refresh_failed")] == ["expired"]
