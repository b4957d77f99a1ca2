"""Appending: canonical records, receipts, refusals, atomicity, tiles and proofs."""

from __future__ import annotations

import hashlib
import threading

import pytest
import rfc8785
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from yiwang.enablement.ledger import leaves, merkle, service, tiles
from yiwang.enablement.ledger.merkle import SHA256, MemoryTree
from yiwang.enablement.ledger.models import AppendOnlyError, Entry

pytestmark = pytest.mark.django_db


def all_leaves(log: str = "main") -> list[bytes]:
    return [bytes(h) for h in Entry.objects.filter(log__name=log).order_by("index")
            .values_list("leaf_hash", flat=True)]


def test_append_returns_a_receipt_of_the_canonical_record() -> None:
    record = {"licence": "L-0001", "b": [1, 2.5, True, None], "a": "电子证照"}
    receipt = service.append("licence.issued", record)
    canonical = rfc8785.dumps(record)
    assert receipt.index == 0 and receipt.log == "main"
    assert receipt.record_hash == hashlib.sha256(canonical).hexdigest()
    entry = Entry.objects.get(index=0)
    data = leaves.entry_bytes("licence.issued", receipt.record_hash, entry.timestamp)
    assert receipt.leaf_hash == SHA256.hash_leaf(data).hex()
    assert entry.record == canonical.decode()
    assert service.record_hash(record) == receipt.record_hash
    assert service.append("licence.status", {"licence": "L-0001", "status": "revoked"}).index == 1
    assert service.get_log("main").size == 2


def test_append_lands_with_the_callers_transaction_or_not_at_all() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        service.append("seal.used", {"seal": "S1"})
        raise RuntimeError("the caller's write failed")
    assert Entry.objects.count() == 0
    assert service.get_log().size == 0


@pytest.mark.parametrize(("record", "code"), [
    ({"holder": "11010519491231002X"}, "personal_data"),
    ({"contact": {"phone": "13812345678"}}, "personal_data"),
    ({"contact": ["+86 138-1234-5678"]}, "personal_data"),
    ({"13812345678": "x"}, "personal_data"),
    ({"n": 13812345678}, "personal_data"),
    ({"when": __import__("datetime").date(2024, 1, 1)}, "not_json"),
    ({"tags": {1, 2}}, "not_json"),
    ({"x": float("nan")}, "not_json"),
    ({"x": 2**60}, "not_json"),
    ({1: "int key"}, "not_json"),
    ({"blob": "x" * 20000}, "too_large"),
])
def test_bad_records_are_refused_with_a_reason(record: dict, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        service.append("licence.issued", record)
    assert caught.value.code == code
    # the message never repeats the personal data
    assert "13812345678" not in str(caught.value) and "11010519491231002X" not in str(
        caught.value)
    assert Entry.objects.count() == 0


def test_not_a_mapping_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        service.append("licence.issued", ["a"])  # type: ignore[arg-type]
    assert caught.value.code == "not_json"


@pytest.mark.parametrize("entry_type", ["", "Licence.Issued", "licence", "licence issued",
                                        "a." + "b" * 70])
def test_bad_entry_types_are_refused(entry_type: str) -> None:
    with pytest.raises(ValidationError) as caught:
        service.append(entry_type, {"x": 1})
    assert caught.value.code == "entry_type"


def test_unknown_logs_are_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        service.append("licence.issued", {"x": 1}, log="nope")
    assert caught.value.code == "unknown_log"


def test_hashes_and_codes_that_are_not_personal_data_are_accepted() -> None:
    receipt = service.append("trust.list_version", {
        "sha256": hashlib.sha256(b"x").hexdigest(), "version": 12,
        "credit_code": "91350100M000100Y43", "licence": "11330100MB0000000X-2024-000001"})
    assert receipt.index == 0


def test_entries_are_append_only() -> None:
    service.append("seal.used", {"seal": "S1"})
    entry = Entry.objects.get()
    entry.entry_type = "seal.forged"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        Entry.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        Entry.objects.update(entry_type="x.y")


def check_against_memory(log: str = "main") -> None:
    leaf_hashes = all_leaves(log)
    head = service.get_log(log)
    hasher = merkle.hasher_for(head.hash_algorithm)
    mem = MemoryTree(hasher, leaf_hashes)
    for size in sorted({1, 2, 3, len(leaf_hashes) // 2, len(leaf_hashes) - 1, len(leaf_hashes)}):
        if size < 1:
            continue
        assert service.root_hash(log, size) == mem.root(size).hex()
        for index in {0, size // 3, size - 1}:
            proof = service.inclusion_proof(log, index, size)
            assert proof.hashes == [p.hex() for p in mem.inclusion_proof(index, size)]
            merkle.verify_inclusion(hasher, index, size, leaf_hashes[index],
                                    [bytes.fromhex(p) for p in proof.hashes], mem.root(size))
        for old in {1, size // 2, size - 1}:
            if 0 < old <= size:
                c = service.consistency_proof(log, old, size)
                assert c.hashes == [p.hex() for p in mem.consistency_proof(old, size)]
                merkle.verify_consistency(hasher, old, size, bytes.fromhex(c.old_root),
                                          bytes.fromhex(c.new_root),
                                          [bytes.fromhex(p) for p in c.hashes])


def test_tiles_and_proofs_match_an_in_memory_tree() -> None:
    for batch in (1, 255, 1, 300, 7):
        service.append_many([("case.updated", {"case": f"C{i}"}) for i in range(batch)])
    assert service.get_log().size == 564
    assert tiles.Tile.objects.filter(level=0).count() == 2
    check_against_memory()


def test_multi_level_tiles_with_small_tiles(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tiles of height 2 (width 4) exercise levels 1..3 with a few hundred entries.
    monkeypatch.setattr(tiles, "HEIGHT", 2)
    monkeypatch.setattr(tiles, "WIDTH", 4)
    sizes = [1, 3, 1, 11, 50, 4, 64, 2, 1]
    for n in sizes:
        service.append_many([("case.updated", {"case": f"C{i}"}) for i in range(n)])
    assert tiles.Tile.objects.filter(level=2).exists()
    check_against_memory()
    leaf_hashes = all_leaves()
    mem = MemoryTree(SHA256, leaf_hashes)
    for size in range(1, len(leaf_hashes) + 1):
        assert service.root_hash("main", size) == mem.root(size).hex()


def test_an_sm3_log_uses_sm3() -> None:
    receipt = service.append("licence.issued", {"licence": "L-1"}, log="gm")
    assert service.get_log("gm").hash_algorithm == "sm3"
    assert receipt.record_hash == merkle.SM3.digest(rfc8785.dumps({"licence": "L-1"})).hex()
    service.append_many([("licence.issued", {"licence": f"L-{i}"}) for i in range(300)],
                        log="gm")
    check_against_memory("gm")


def test_find_entry_by_record_or_leaf_hash() -> None:
    receipts = service.append_many([("seal.used", {"seal": f"S{i}"}) for i in range(5)])
    found = service.find_entry("main", record_hash=receipts[3].record_hash)
    assert found is not None and found.index == 3
    assert service.find_entry("main", leaf_hash=receipts[4].leaf_hash).index == 4
    assert service.find_entry("main", record_hash="00" * 32) is None
    with pytest.raises(ValidationError):
        service.find_entry("main", record_hash="zz")


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_get_distinct_consecutive_indexes() -> None:
    if connection.vendor == "sqlite":
        connection.close()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        from django.db import connection as conn

        try:
            for i in range(15):
                service.append("case.updated", {"writer": n, "i": i})
        except BaseException as exc:
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    indexes = sorted(Entry.objects.values_list("index", flat=True))
    assert indexes == list(range(60))
    assert service.get_log().size == 60
    check_against_memory()
