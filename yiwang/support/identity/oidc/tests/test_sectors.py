"""Pairwise subject sectors (OpenID Connect Core 1.0, section 8.1): fixed at registration,
backed by a sector identifier document for several hosts, one department per sector."""

from __future__ import annotations

import ipaddress
import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from yiwang.core.audit.service import AuditEvent
from yiwang.core.crypto.service import blind_index
from yiwang.platform.orgs import service as orgs
from yiwang.platform.regions.testing import CITY, make_chain
from yiwang.support.identity.models import User
from yiwang.support.identity.oidc import claims, outbound, sectors
from yiwang.support.identity.oidc.models import PairwiseSector, RelyingParty
from yiwang.support.identity.oidc.relying_parties import (
    register_relying_party,
    set_relying_party_active,
    update_relying_party,
)

pytestmark = pytest.mark.django_db

PERSON = SimpleNamespace(pk=4242)  # subject() needs only the account id


def _pairwise(redirect_uris: str | list[str], **extra):
    rp, _secret = register_relying_party(name="应用", client_type="confidential",
                                         redirect_uris=redirect_uris, subject_type="pairwise",
                                         actor=None, **extra)
    return rp


def _refusal(caught: pytest.ExceptionInfo[ValidationError], field: str) -> str:
    assert field in caught.value.message_dict, caught.value.message_dict
    return " ".join(caught.value.message_dict[field])


@pytest.fixture
def departments():
    make_chain(geometry=False)
    return (orgs.create_department("sec-a", "甲局", region_code=CITY).code,
            orgs.create_department("sec-b", "乙局", region_code=CITY).code)


def test_redirect_uris_on_one_host_make_that_host_the_sector():
    rp = _pairwise(["https://App.example.org/cb", "https://app.example.org/other"])
    assert rp.sector == "app.example.org"
    assert claims.subject(PERSON, rp) == blind_index(f"app.example.org|{PERSON.pk}",
                                                     claims.PAIRWISE_PURPOSE)
    # A public relying party has no sector to fix: its sub is the account id.
    public, _ = register_relying_party(name="公开", client_type="confidential",
                                       redirect_uris="https://a.example.org/cb "
                                                     "https://b.example.org/cb", actor=None)
    assert public.sector == "" and claims.subject(PERSON, public) == str(PERSON.pk)


def test_redirect_uris_on_several_hosts_need_a_sector_identifier_uri():
    with pytest.raises(ValidationError) as caught:
        _pairwise(["https://a.example.org/cb", "https://b.example.org/cb"])
    message = _refusal(caught, "sector_identifier_uri")
    assert "a.example.org" in message and "b.example.org" in message
    assert "sector_identifier_uri" in message
    assert not RelyingParty.objects.exists()


def test_a_sector_identifier_document_listing_every_redirect_uri(local_server):
    uris = ["https://a.example.org/cb", "https://b.example.org/cb"]
    local_server.routes["/sector.json"] = (200, json.dumps([*uris, "https://c.example.org/"])
                                           .encode())
    rp = _pairwise(uris, sector_identifier_uri=local_server.url("/sector.json"))
    assert rp.sector == "127.0.0.1"  # the host of the document
    assert rp.sector_identifier_uri == local_server.url("/sector.json")
    (got,) = local_server.received
    assert got["method"] == "GET" and got["path"] == "/sector.json"


GENERIC = ("无法读取标识分区文档，或其内容不符合要求：须为 https 地址返回的 JSON 数组，"
           "并列出全部回调地址。")


def _refused_document_reasons() -> list[dict[str, Any]]:
    return [event.detail for event in
            AuditEvent.objects.filter(action="oidc.sector_document_refused").order_by("id")]


def test_a_document_not_listing_a_redirect_uri_is_named(local_server):
    # The administrator's own document: saying what it lacks helps, and probes nothing.
    local_server.routes["/sector.json"] = (200, json.dumps(["https://a.example.org/cb"]).encode())
    with pytest.raises(ValidationError) as caught:
        _pairwise(["https://a.example.org/cb", "https://b.example.org/cb"],
                  sector_identifier_uri=local_server.url("/sector.json"))
    message = _refusal(caught, "sector_identifier_uri")
    assert "https://b.example.org/cb" in message and GENERIC not in message
    assert not RelyingParty.objects.exists()


@pytest.mark.parametrize(("status", "body", "reason"), [
    (200, b"<html>not json</html>", "not_json"),
    (200, json.dumps({"redirect_uris": []}).encode(), "not_list"),
    (200, json.dumps(["https://a.example.org/cb", 7]).encode(), "not_list"),
    (200, json.dumps(["https://a.example.org/cb"] * 4000).encode(), "too_large"),
    (404, b"missing", "status"),
    (302, b"", "status"),
])
def test_a_bad_sector_identifier_document_is_refused_alike(local_server, status, body, reason):
    # One message whatever went wrong, so the form cannot map what the server reaches; the
    # reason is in the audit log.
    local_server.routes["/sector.json"] = (status, body)
    with pytest.raises(ValidationError) as caught:
        _pairwise(["https://a.example.org/cb", "https://b.example.org/cb"],
                  sector_identifier_uri=local_server.url("/sector.json"))
    assert _refusal(caught, "sector_identifier_uri") == GENERIC
    assert "HTTP" not in GENERIC and str(status) not in _refusal(caught, "sector_identifier_uri")
    assert not RelyingParty.objects.exists()
    (detail,) = _refused_document_reasons()
    assert detail["reason"] == reason and detail["uri"] == local_server.url("/sector.json")
    if reason == "status":
        assert detail["status"] == status


def test_an_unreachable_sector_identifier_document_is_refused_alike(local_server):
    address = local_server.url("/sector.json").replace(local_server.base.rsplit(":", 1)[1], "9")
    with pytest.raises(ValidationError) as caught:
        _pairwise("https://a.example.org/cb", sector_identifier_uri=address)
    assert _refusal(caught, "sector_identifier_uri") == GENERIC
    (detail,) = _refused_document_reasons()
    assert detail["reason"] == "unreachable" and detail["error"] == "ConnectionError"


def test_the_refusal_of_a_document_is_audited_against_the_app_and_the_actor(local_server,
                                                                          departments):
    local_server.routes["/sector.json"] = (200, b'["https://a.example.org/cb"]')
    rp = _pairwise("https://a.example.org/cb",
                   sector_identifier_uri=local_server.url("/sector.json"))
    admin = User.objects.create_user(username="rp-admin", password="not used here")
    local_server.routes["/sector.json"] = (500, b"oops")
    with pytest.raises(ValidationError) as caught:
        update_relying_party(rp, actor=admin, redirect_uris="https://a.example.org/cb "
                                                            "https://a.example.org/two")
    assert _refusal(caught, "sector_identifier_uri") == GENERIC
    event = AuditEvent.objects.get(action="oidc.sector_document_refused")
    assert (event.object_id, event.actor_id) == (str(rp.pk), str(admin.pk))
    assert event.detail["reason"] == "status" and event.detail["status"] == 500
    assert event.detail["client_id"] == rp.client_id


def test_another_departments_sector_is_refused_and_the_same_departments_shared(departments):
    first, second = departments
    mine = _pairwise("https://shared.example.gov.cn/a", department_code=first)
    with pytest.raises(ValidationError) as caught:
        _pairwise("https://shared.example.gov.cn/b", department_code=second)
    assert "shared.example.gov.cn" in _refusal(caught, "redirect_uris")
    with pytest.raises(ValidationError):  # the platform is not that department either
        _pairwise("https://shared.example.gov.cn/c")
    # Another app of the same department shares the sector, and so sees the same sub:
    # that is what a sector is for (one agency's apps on several hosts).
    sibling = _pairwise("https://shared.example.gov.cn/d", department_code=first)
    assert sibling.sector == mine.sector
    assert claims.subject(PERSON, sibling) == claims.subject(PERSON, mine)
    # Nor can an app move to another department while a sibling keeps the sector.
    with pytest.raises(ValidationError):
        update_relying_party(sibling, actor=None, department_code=second)
    # A public app of another department may use the host; turning pairwise is refused.
    public, _ = register_relying_party(name="公开", client_type="confidential",
                                       redirect_uris="https://shared.example.gov.cn/e",
                                       department_code=second, actor=None)
    with pytest.raises(ValidationError):
        update_relying_party(public, actor=None, subject_type="pairwise")


@pytest.mark.parametrize("let_go", ["public", "disabled", "deleted"])
def test_a_sector_stays_its_departments_after_its_app_lets_go_of_it(departments, let_go):
    first, second = departments
    mine = _pairwise("https://kept.example.gov.cn/a", department_code=first)
    if let_go == "public":
        update_relying_party(mine, actor=None, subject_type="public")
    elif let_go == "disabled":
        set_relying_party_active(mine, False, actor=None)
    else:
        mine.delete()
    # Another department would otherwise compute the same subs as the first one did.
    with pytest.raises(ValidationError) as caught:
        _pairwise("https://kept.example.gov.cn/b", department_code=second)
    assert "kept.example.gov.cn" in _refusal(caught, "redirect_uris")
    assert not RelyingParty.objects.filter(department_code=second).exists()
    # A public app of the other department on that host cannot turn pairwise either.
    public, _ = register_relying_party(name="公开", client_type="confidential",
                                       redirect_uris="https://kept.example.gov.cn/c",
                                       department_code=second, actor=None)
    with pytest.raises(ValidationError):
        update_relying_party(public, actor=None, subject_type="pairwise")
    # The department that holds it may come back to it, and sees the same subs again.
    again = _pairwise("https://kept.example.gov.cn/d", department_code=first)
    assert claims.subject(PERSON, again) == blind_index(f"kept.example.gov.cn|{PERSON.pk}",
                                                        claims.PAIRWISE_PURPOSE)
    assert list(PairwiseSector.objects.values_list("host", "department_code")) == [
        ("kept.example.gov.cn", first)]


def test_a_pairwise_app_cannot_take_its_sector_to_another_department(departments):
    first, second = departments
    alone = _pairwise("https://alone.example.gov.cn/a", department_code=first)
    with pytest.raises(ValidationError) as caught:
        update_relying_party(alone, actor=None, department_code=second)
    assert "alone.example.gov.cn" in _refusal(caught, "redirect_uris")
    alone.refresh_from_db()
    assert alone.department_code == first
    assert PairwiseSector.objects.get(host="alone.example.gov.cn").department_code == first


def test_two_departments_racing_for_a_new_sector_one_is_refused(departments, monkeypatch):
    first, second = departments
    checked = sectors._check_owner

    def the_other_registration_commits_meanwhile(rp, owner):
        checked(rp, owner)  # nobody had claimed the sector when this one looked
        PairwiseSector.objects.create(host=rp.sector, department_code=first)

    monkeypatch.setattr(sectors, "_check_owner", the_other_registration_commits_meanwhile)
    with pytest.raises(ValidationError) as caught:
        _pairwise("https://race.example.gov.cn/a", department_code=second)
    monkeypatch.undo()
    assert "race.example.gov.cn" in _refusal(caught, "redirect_uris")
    assert caught.value.error_dict["redirect_uris"][0].code == "sector_taken"
    assert not RelyingParty.objects.exists()


def test_editing_redirect_uris_keeps_the_sector_and_every_sub(local_server):
    rp = _pairwise(["https://app.example.org/cb", "https://app.example.org/two"])
    sub = claims.subject(PERSON, rp)
    # Reordered, replaced, extended on the same host: the same sector, the same sub.
    update_relying_party(rp, actor=None,
                         redirect_uris=["https://app.example.org/new", "https://app.example.org/cb"])
    rp.refresh_from_db()
    assert rp.sector == "app.example.org" and claims.subject(PERSON, rp) == sub
    # A new host is refused without a document, on the field that names it.
    with pytest.raises(ValidationError) as caught:
        update_relying_party(rp, actor=None, redirect_uris=["https://elsewhere.example.org/cb"])
    message = _refusal(caught, "redirect_uris")
    assert "app.example.org" in message and "sector_identifier_uri" in message
    # A document on another host cannot move the sector.
    local_server.routes["/s.json"] = (200, b'["https://elsewhere.example.org/cb"]')
    with pytest.raises(ValidationError) as caught:
        update_relying_party(rp, actor=None, sector_identifier_uri=local_server.url("/s.json"),
                             redirect_uris=["https://elsewhere.example.org/cb"])
    assert "app.example.org" in _refusal(caught, "sector_identifier_uri")
    rp.refresh_from_db()
    assert rp.sector == "app.example.org" and claims.subject(PERSON, rp) == sub


def test_a_new_host_is_allowed_once_the_document_lists_it(local_server):
    local_server.routes["/sector.json"] = (200, b'["https://a.example.org/cb"]')
    rp = _pairwise("https://a.example.org/cb",
                   sector_identifier_uri=local_server.url("/sector.json"))
    sub = claims.subject(PERSON, rp)
    with pytest.raises(ValidationError) as caught:
        update_relying_party(rp, actor=None,
                             redirect_uris="https://a.example.org/cb https://b.example.org/cb")
    assert "https://b.example.org/cb" in _refusal(caught, "sector_identifier_uri")
    local_server.routes["/sector.json"] = (
        200, b'["https://a.example.org/cb", "https://b.example.org/cb"]')
    update_relying_party(rp, actor=None,
                         redirect_uris="https://a.example.org/cb https://b.example.org/cb")
    rp.refresh_from_db()
    assert rp.sector == "127.0.0.1" and claims.subject(PERSON, rp) == sub
    # Edits that add no redirect URI do not fetch the document again.
    fetched = len(local_server.received)
    update_relying_party(rp, actor=None, name="新名称")
    assert len(local_server.received) == fetched


def test_the_sector_is_fixed_when_an_app_first_turns_pairwise():
    rp, _ = register_relying_party(name="应用", client_type="confidential",
                                   redirect_uris="https://app.example.org/cb", actor=None)
    assert rp.sector == ""
    update_relying_party(rp, actor=None, subject_type="pairwise")
    rp.refresh_from_db()
    assert rp.sector == "app.example.org"
    assert sectors.host_of("https://APP.example.org./x") == "app.example.org"


@pytest.mark.django_db(transaction=True)
def test_the_network_is_used_before_the_transaction_opens(local_server, monkeypatch):
    # A database transaction (and the locks it holds) must not wait on somebody's server:
    # DNS look-ups and the sector document come first, the writes after.
    in_transaction: list[tuple[str, bool]] = []
    answers = {"docs.example.org": "127.0.0.1", "app.example.org": "203.0.113.7"}

    def resolve(host: str, port: int) -> list[Any]:
        in_transaction.append((f"dns {host}", connection.in_atomic_block))
        return [ipaddress.ip_address(answers[host])]

    fetch = sectors.fetch_document

    def fetch_document(uri: str, **kwargs: Any) -> list[str]:
        in_transaction.append(("document", connection.in_atomic_block))
        return fetch(uri, **kwargs)

    monkeypatch.setattr(outbound, "resolve", resolve)
    monkeypatch.setattr(sectors, "fetch_document", fetch_document)
    port = local_server.base.rsplit(":", 1)[1]
    local_server.routes["/sector.json"] = (200, b'["https://app.example.org/cb"]')
    local_server.routes["/sector.json?v=2"] = (
        200, b'["https://app.example.org/cb", "https://app.example.org/x"]')
    rp = _pairwise("https://app.example.org/cb",
                   sector_identifier_uri=f"http://docs.example.org:{port}/sector.json",
                   backchannel_logout_uri="https://app.example.org/bcl")
    assert rp.sector == "docs.example.org" and len(local_server.received) == 1
    update_relying_party(rp, actor=None, backchannel_logout_uri="https://app.example.org/bcl2",
                         redirect_uris="https://app.example.org/cb https://app.example.org/x",
                         sector_identifier_uri=f"http://docs.example.org:{port}/sector.json?v=2")
    assert ("document", False) in in_transaction
    assert {name for name, _ in in_transaction} == {
        "dns docs.example.org", "dns app.example.org", "document"}
    assert [name for name, inside in in_transaction if inside] == []
    assert len(in_transaction) >= 6


# --- the migration ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_existing_pairwise_subject():
    before = [("oidc", "0002_sessions_and_keys")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("oidc", "RelyingParty")

    def old_rp(client_id: str, redirect_uris: str, sector_identifier: str,
               subject_type: str = "pairwise") -> None:
        old.objects.create(client_id=client_id, name=client_id, client_type="confidential",
                           authorization_grant_type="authorization-code",
                           redirect_uris=redirect_uris, subject_type=subject_type,
                           sector_identifier=sector_identifier)

    # The sectors the provider computed before (claims.sector_of of the previous version):
    # the sector identifier's host (or the identifier itself), else the host of the FIRST
    # redirect URI, else the client id.
    expected = {
        "first-host": "second.example.org",
        "url-sector": "sector.example.org",
        "text-sector": "legacy-sector",
        "no-redirect": "no-redirect",
    }
    old_rp("first-host", "https://Second.example.org/cb https://first.example.org/cb", "")
    old_rp("url-sector", "https://x.example.org/cb", "https://Sector.example.org/doc.json")
    old_rp("text-sector", "https://x.example.org/cb", "Legacy-Sector")
    old_rp("no-redirect", "", "")
    old_rp("public", "https://x.example.org/cb", "https://kept.example.org/doc.json",
           subject_type="public")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    for client_id, sector in expected.items():
        rp = RelyingParty.objects.get(client_id=client_id)
        assert claims.subject(PERSON, rp) == blind_index(f"{sector}|{PERSON.pk}",
                                                         claims.PAIRWISE_PURPOSE), client_id
    url_sector = RelyingParty.objects.get(client_id="url-sector")
    assert url_sector.sector_identifier_uri == "https://Sector.example.org/doc.json"
    assert RelyingParty.objects.get(client_id="text-sector").sector_identifier_uri == ""
    public = RelyingParty.objects.get(client_id="public")
    assert public.sector == "" and claims.subject(PERSON, public) == str(PERSON.pk)
    # Reordering the redirect URIs of a migrated app no longer changes anybody's sub.
    first = RelyingParty.objects.get(client_id="first-host")
    update_relying_party(first, actor=None,
                         redirect_uris="https://first.example.org/cb https://second.example.org/cb")
    first.refresh_from_db()
    assert claims.subject(PERSON, first) == blind_index(
        f"second.example.org|{PERSON.pk}", claims.PAIRWISE_PURPOSE)


@pytest.mark.django_db(transaction=True)
def test_the_sector_owners_are_back_filled_first_registered_first():
    before = [("oidc", "0003_pairwise_sector")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("oidc", "RelyingParty")

    def old_rp(client_id: str, sector: str, department_code: str,
               subject_type: str = "pairwise") -> None:
        old.objects.create(client_id=client_id, name=client_id, client_type="confidential",
                           authorization_grant_type="authorization-code",
                           redirect_uris=f"https://{sector or 'x.example.org'}/cb",
                           subject_type=subject_type, sector=sector,
                           department_code=department_code)

    old_rp("first", "shared.example.org", "dept-a")
    old_rp("second", "shared.example.org", "dept-b")  # shared before the provider refused it
    old_rp("was-pairwise", "public-now.example.org", "dept-c", subject_type="public")
    old_rp("platform", "platform.example.org", "")
    old_rp("public", "", "dept-d", subject_type="public")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert dict(PairwiseSector.objects.values_list("host", "department_code")) == {
        "shared.example.org": "dept-a", "public-now.example.org": "dept-c",
        "platform.example.org": ""}
    # The second department's app keeps working and can be edited; its sub is unchanged.
    second = RelyingParty.objects.get(client_id="second")
    sub = claims.subject(PERSON, second)
    update_relying_party(second, actor=None, name="改名")
    second.refresh_from_db()
    assert second.name == "改名" and claims.subject(PERSON, second) == sub


@pytest.mark.django_db(transaction=True)
def test_the_migration_survives_malformed_identifiers_and_runs_backwards():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    before = [("oidc", "0002_sessions_and_keys")]
    try:
        executor.migrate(before)
        old = executor.loader.project_state(before).apps.get_model("oidc", "RelyingParty")
        identifiers = {
            "broken-url": ("https://[broken/doc.json", "https://x.example.org/cb"),
            "broken-redirect": ("", "https://[oops/cb https://second.example.org/cb"),
            "url-sector": ("https://Sector.example.org/doc.json", "https://x.example.org/cb"),
            "text-sector": ("Legacy-Sector", "https://x.example.org/cb"),
            "from-redirect": ("", "https://App.example.org/cb"),
        }
        for client_id, (sector_identifier, redirect_uris) in identifiers.items():
            old.objects.create(client_id=client_id, name=client_id, client_type="confidential",
                               authorization_grant_type="authorization-code",
                               redirect_uris=redirect_uris, subject_type="pairwise",
                               sector_identifier=sector_identifier)

        executor = MigrationExecutor(connection)
        executor.migrate(leaves)
        broken = RelyingParty.objects.get(client_id="broken-url")
        # Kept as its text (its sub unchanged), and not taken for a document to fetch.
        assert broken.sector == "https://[broken/doc.json"
        assert broken.sector_identifier_uri == ""
        assert RelyingParty.objects.get(client_id="broken-redirect").sector == \
            "second.example.org"

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        old = executor.loader.project_state(before).apps.get_model("oidc", "RelyingParty")
        restored = dict(old.objects.values_list("client_id", "sector_identifier"))
        # Each restored identifier gives the sector (so the sub) the app had.
        assert restored == {
            "broken-url": "https://[broken/doc.json",
            "broken-redirect": "second.example.org",
            "url-sector": "https://Sector.example.org/doc.json",
            "text-sector": "legacy-sector",
            "from-redirect": "app.example.org",
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)
