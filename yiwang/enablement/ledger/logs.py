"""Logs, the dataclasses the facade returns, and helpers shared by service.py and
checkpoints.py (other apps use service.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from yiwang.enablement.ledger import leaves, merkle
from yiwang.enablement.ledger.models import Checkpoint, Log

MAX_BATCH = 10_000
MAX_RANGE = 1000


@dataclass(frozen=True)
class LedgerReceipt:
    """Where an entry landed: ``index`` in ``log``; hashes in lower-case hex."""

    log: str
    index: int
    entry_type: str
    record_hash: str
    leaf_hash: str


@dataclass(frozen=True)
class LogInfo:
    name: str
    origin: str
    hash_algorithm: str
    size: int
    created_at: datetime | None


@dataclass(frozen=True)
class EntryInfo:
    log: str
    index: int
    entry_type: str
    record_hash: str
    leaf_hash: str
    timestamp: int  # ms since the epoch
    record: str | None

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp / 1000, tz=UTC)

    @property
    def leaf_data(self) -> bytes:
        return leaves.entry_bytes(self.entry_type, self.record_hash, self.timestamp)


@dataclass(frozen=True)
class InclusionProof:
    log: str
    index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    hashes: list[str]
    checkpoint: str | None  # the signed note of this tree size, if one was published


@dataclass(frozen=True)
class ConsistencyProof:
    log: str
    old_size: int
    new_size: int
    old_root: str
    new_root: str
    hashes: list[str]


@dataclass(frozen=True)
class CheckpointInfo:
    log: str
    size: int
    root_hash: str
    note: str  # the signed note with the log's signature and every cosignature
    key_id: str
    created_at: datetime
    cosigners: list[str]


def _error(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


# --- logs --------------------------------------------------------------------------------


def configured_logs() -> dict[str, str]:
    """The logs of ``YIWANG_LEDGER_LOGS``: name -> hash algorithm."""
    found: dict[str, str] = {}
    for item in getattr(settings, "YIWANG_LEDGER_LOGS", ["main"]):
        name, _sep, algorithm = str(item).strip().partition(":")
        found[name] = algorithm or "sha256"
    return found


def origin_prefix() -> str:
    prefix = getattr(settings, "YIWANG_LEDGER_ORIGIN", "") or ""
    if not prefix:
        host = urlsplit(settings.YIWANG_PUBLIC_URL).netloc or "localhost"
        prefix = f"{host}/ledger"
    return prefix.strip("/")


def _log(name: str, *, create: bool = True) -> Log:
    found = Log.objects.filter(name=name).first() if isinstance(name, str) else None
    if found is not None:
        return found
    algorithm = configured_logs().get(name) if isinstance(name, str) else None
    if algorithm is None:
        raise _error(_("账本中没有名为“%(name)s”的日志。") % {"name": str(name)[:40]},
                     "unknown_log")
    if algorithm not in merkle.ALGORITHMS:
        raise _error(_("日志“%(name)s”配置的哈希算法无效。") % {"name": name}, "unknown_log")
    if not create:
        raise _error(_("日志“%(name)s”还没有任何记录。") % {"name": name}, "not_found")
    try:
        with transaction.atomic():
            return Log.objects.create(name=name, hash_algorithm=algorithm,
                                      origin=f"{origin_prefix()}/{name}")
    except IntegrityError:
        return Log.objects.get(name=name)


def _info(log: Log) -> LogInfo:
    return LogInfo(log.name, log.origin, log.hash_algorithm, log.size, log.created_at)


def get_log(name: str = "main") -> LogInfo:
    """The log ``name`` (created on first use if configured); ValidationError if unknown."""
    return _info(_log(name))


def list_logs() -> list[LogInfo]:
    """Every configured log, and any log that has rows, by name."""
    for name in configured_logs():
        _log(name)
    return [_info(log) for log in Log.objects.order_by("name")]


def _checkpoint_note(cp: Checkpoint) -> str:
    lines = [c.line for c in cp.cosignatures.order_by("witness")]
    return cp.note + "".join(lines)


def _checkpoint_info(log: Log, cp: Checkpoint) -> CheckpointInfo:
    cosigners = list(cp.cosignatures.order_by("witness").values_list("witness", flat=True))
    return CheckpointInfo(log.name, cp.size, bytes(cp.root).hex(), _checkpoint_note(cp),
                          cp.key_id, cp.created_at, cosigners)




@dataclass(frozen=True)
class Head:
    """The head of a log read in one query: for the hot paths (append, proofs)."""

    pk: int
    name: str
    size: int
    hash_algorithm: str
    checkpoint_size: int | None


_HEAD = ("SELECT l.id, l.size, l.hash_algorithm, "
         "(SELECT MAX(c.size) FROM ledger_checkpoint c WHERE c.log_id = l.id) "
         "FROM ledger_log l WHERE l.name = %s")


def head(name: str) -> Head:
    """The head of log ``name`` (created on first use if configured; ValidationError if
    unknown), with the size of its latest checkpoint."""
    if isinstance(name, str):
        with connection.cursor() as cursor:
            cursor.execute(_HEAD, [name])
            row = cursor.fetchone()
        if row is not None:
            return Head(row[0], name, row[1], row[2], row[3])
    log = _log(name)
    return Head(log.pk, log.name, log.size, log.hash_algorithm, None)
