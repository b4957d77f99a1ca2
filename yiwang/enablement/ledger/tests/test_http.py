"""The tlog-tiles endpoints and the JSON API, as an external auditor uses them."""

from __future__ import annotations

import pytest

from yiwang.enablement.ledger import leaves, merkle, service, tiles
from yiwang.enablement.ledger.merkle import SHA256, MemoryTree
from yiwang.enablement.ledger.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def log600() -> list[bytes]:
    service.append_many([("case.updated", {"case": f"C{i}"}) for i in range(600)])
    service.publish_checkpoint()
    return [bytes(h) for h in Entry.objects.order_by("index").values_list("leaf_hash", flat=True)]


def test_checkpoint_endpoint(public_client, log600) -> None:
    response = public_client.get("/ledger/main/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == service.latest_checkpoint().note
    assert public_client.get("/ledger/nope/checkpoint").status_code == 404


def test_checkpoint_before_any_is_404(public_client) -> None:
    assert public_client.get("/ledger/main/checkpoint").status_code == 404


def test_tiles_rebuild_the_tree(public_client, log600) -> None:
    full = public_client.get("/ledger/main/tile/0/000")
    assert full.status_code == 200 and len(full.content) == 8192
    assert full["Content-Type"] == "application/octet-stream"
    second = public_client.get("/ledger/main/tile/0/001").content
    partial = public_client.get("/ledger/main/tile/0/002.p/88")
    assert partial.status_code == 200 and len(partial.content) == 88 * 32
    level1 = public_client.get("/ledger/main/tile/1/000.p/2").content
    hashes = tiles.split_hashes(full.content + second + partial.content)
    assert list(hashes) == log600
    assert level1 == merkle.root_of(SHA256, hashes[:256]) + merkle.root_of(SHA256,
                                                                           hashes[256:512])
    assert MemoryTree(SHA256, hashes).root().hex() == service.latest_checkpoint().root_hash
    # a shorter prefix of a partial or full tile is served too
    assert public_client.get("/ledger/main/tile/0/000.p/3").content == full.content[:96]


def test_entry_bundles_hash_to_the_level_0_tile(public_client, log600) -> None:
    bundle = public_client.get("/ledger/main/tile/entries/002.p/88").content
    found, pos = [], 0
    while pos < len(bundle):
        n = int.from_bytes(bundle[pos:pos + 2], "big")
        data = bundle[pos + 2: pos + 2 + n]
        leaves.parse_entry_bytes(data)
        found.append(SHA256.hash_leaf(data))
        pos += 2 + n
    assert found == log600[512:600]


@pytest.mark.parametrize("path", [
    "tile/0/2", "tile/0/0002", "tile/00/000", "tile/64/000", "tile/0/x000/002",
    "tile/0/001/002", "tile/0/x001", "tile/0/002.p/0", "tile/0/002.p/256", "tile/0/002.p/088",
    "tile/0/002.p", "tile/abc/000", "tile/0/", "tile/", "tile/entries/-01",
    "tile/0/000.p/1/extra",
])
def test_bad_tile_paths_are_400(public_client, log600, path: str) -> None:
    response = public_client.get(f"/ledger/main/{path}")
    assert response.status_code == 400, path
    assert response.content.startswith(b"bad tile path")


@pytest.mark.parametrize("path", ["tile/0/003", "tile/0/002", "tile/0/002.p/89",
                                  "tile/1/000", "tile/2/000.p/1", "tile/entries/x001/000"])
def test_tiles_beyond_the_tree_are_404(public_client, log600, path: str) -> None:
    assert public_client.get(f"/ledger/main/{path}").status_code == 404


def test_index_encoding() -> None:
    assert tiles.encode_index(1234067) == "x001/x234/067"
    assert tiles.parse_tile_path("0/x001/x234/067.p/5") == tiles.TileAddress(0, 1234067, 5)
    assert tiles.parse_tile_path("entries/000") == tiles.TileAddress(None, 0, None)


def test_api_inclusion_by_index_and_hash(public_client, log600) -> None:
    cp = service.latest_checkpoint()
    response = public_client.get("/api/v1/ledger/logs/main/inclusion", {"index": 517})
    assert response.status_code == 200
    body = response.json()
    assert body["tree_size"] == 600 and body["root_hash"] == cp.root_hash
    assert body["checkpoint"] == cp.note
    merkle.verify_inclusion(SHA256, 517, 600, log600[517],
                            [bytes.fromhex(h) for h in body["hashes"]],
                            bytes.fromhex(cp.root_hash))
    record_hash = service.entries("main", 517, 518)[0].record_hash
    by_hash = public_client.get("/api/v1/ledger/logs/main/inclusion",
                                {"record_hash": record_hash}).json()
    assert by_hash == body
    by_leaf = public_client.get("/api/v1/ledger/logs/main/inclusion",
                                {"leaf_hash": log600[517].hex(), "tree_size": 518}).json()
    assert by_leaf["tree_size"] == 518 and by_leaf["checkpoint"] is None


def test_api_consistency_entries_checkpoint_and_logs(public_client, log600) -> None:
    body = public_client.get("/api/v1/ledger/logs/main/consistency",
                             {"old_size": 300, "new_size": 600}).json()
    merkle.verify_consistency(SHA256, 300, 600, bytes.fromhex(body["old_root"]),
                              bytes.fromhex(body["new_root"]),
                              [bytes.fromhex(h) for h in body["hashes"]])
    rows = public_client.get("/api/v1/ledger/logs/main/entries",
                             {"start": 10, "end": 13}).json()
    assert [r["index"] for r in rows] == [10, 11, 12]
    assert set(rows[0]) == {"index", "entry_type", "record_hash", "leaf_hash", "timestamp"}
    cp = public_client.get("/api/v1/ledger/logs/main/checkpoint").json()
    assert cp["size"] == 600
    logs = public_client.get("/api/v1/ledger/logs").json()
    main = next(x for x in logs if x["name"] == "main")
    assert main["checkpoint_size"] == 600 and main["log_keys"]
    assert public_client.get("/api/v1/ledger/logs/main").json()["size"] == 600


@pytest.mark.parametrize(("url", "params", "status"), [
    ("/api/v1/ledger/logs/nope", {}, 404),
    ("/api/v1/ledger/logs/nope/inclusion", {"index": 1}, 404),
    ("/api/v1/ledger/logs/main/inclusion", {"index": 600}, 404),
    ("/api/v1/ledger/logs/main/inclusion", {"index": 1, "tree_size": 601}, 400),
    ("/api/v1/ledger/logs/main/inclusion", {"index": 5, "tree_size": 3}, 404),
    ("/api/v1/ledger/logs/main/inclusion", {"index": -1}, 422),
    ("/api/v1/ledger/logs/main/inclusion", {"index": "x"}, 422),
    ("/api/v1/ledger/logs/main/inclusion", {}, 400),
    ("/api/v1/ledger/logs/main/inclusion", {"record_hash": "zz"}, 400),
    ("/api/v1/ledger/logs/main/inclusion", {"record_hash": "00" * 32}, 404),
    ("/api/v1/ledger/logs/main/inclusion", {"index": 10**30}, 404),
    ("/api/v1/ledger/logs/main/consistency", {"old_size": 700}, 400),
    ("/api/v1/ledger/logs/main/consistency", {"old_size": 1, "new_size": 9000}, 400),
    ("/api/v1/ledger/logs/main/entries", {"start": 5, "end": 2}, 400),
])
def test_api_bad_input_is_4xx(public_client, log600, url: str, params: dict,
                              status: int) -> None:
    assert public_client.get(url, params).status_code == status


def test_internal_listener(internal_client, log600) -> None:
    # public data: the API and the static tiles answer an anonymous caller on both listeners
    assert internal_client.get("/api/v1/ledger/logs/main/checkpoint").status_code == 200
    assert internal_client.get("/ledger/main/tile/0/000").status_code == 200
