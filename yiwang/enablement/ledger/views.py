"""The log's static-style endpoints for external auditors (C2SP tlog-tiles), outside the
language prefix at ``/ledger/<log>/`` on both listeners:

* ``checkpoint`` — the latest signed checkpoint with its cosignatures (text/plain);
* ``tile/<L>/<N>[.p/<W>]`` — Merkle tree tiles (application/octet-stream);
* ``tile/entries/<N>[.p/<W>]`` — entry bundles: big-endian uint16 length-prefixed leaf data.

Malformed paths are answered 400 with the reason, tiles beyond the tree 404.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from yiwang.enablement.ledger import leaves, logs, tiles
from yiwang.enablement.ledger.models import Checkpoint, Entry, Log

IMMUTABLE = "public, max-age=31536000, immutable"


def _text(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status,
                            content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def _head(log: str) -> Log | None:
    try:
        return logs._log(log)
    except ValidationError:
        return None


@require_safe
def checkpoint(request: HttpRequest, log: str) -> HttpResponse:
    head = _head(log)
    if head is None:
        return _text(404, f"no log named {log[:40]!r}")
    cp = Checkpoint.objects.filter(log=head).order_by("-size").first()
    if cp is None:
        return _text(404, "no checkpoint yet")
    response = HttpResponse(logs._checkpoint_note(cp), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=5"
    return response


def _entry_bundle(head: Log, start: int, width: int) -> bytes:
    out = bytearray()
    rows = (Entry.objects.filter(log=head, index__gte=start, index__lt=start + width)
            .order_by("index").values_list("entry_type", "record_hash", "timestamp"))
    for entry_type, record_hash, timestamp in rows:
        data = leaves.entry_bytes(entry_type, bytes(record_hash).hex(), timestamp)
        out += len(data).to_bytes(2, "big") + data
    return bytes(out)


@require_safe
def tile(request: HttpRequest, log: str, rest: str) -> HttpResponse:
    try:
        address = tiles.parse_tile_path(rest)
    except tiles.TilePathError as exc:
        return _text(400, f"bad tile path: {exc}")
    head = _head(log)
    if head is None:
        return _text(404, f"no log named {log[:40]!r}")
    size = Log.objects.filter(pk=head.pk).values_list("size", flat=True).get()
    level = 0 if address.level is None else address.level
    full, partial = tiles.tile_count(size, level)
    width = address.width or tiles.WIDTH
    if address.index < full:
        pass  # a full tile serves any prefix
    elif address.index == full and address.width is not None and address.width <= partial:
        pass
    else:
        return _text(404, "no such tile in this tree")
    if address.level is None:
        body = _entry_bundle(head, address.index * tiles.WIDTH, width)
    else:
        hashes = tiles.TileReader(head, size).tile(address.level, address.index)
        body = b"".join(hashes[:width])
    response = HttpResponse(body, content_type="application/octet-stream")
    response["Cache-Control"] = IMMUTABLE
    return response
