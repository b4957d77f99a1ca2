"""Models of the ledger app (防篡改账本).

A ``Log`` row is the head of one Merkle log: its size is the next index, and appending
locks it (see ``service.append``). ``Entry`` rows hold the leaves (never personal data:
the type, the hash of a canonical record and the time). ``Tile`` rows hold the C2SP
tlog-tiles hashes of *full* tiles only (partial tiles are read from the entries or from
the roots of the full tiles one level down), so any proof or root needs O(log n) reads.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Log(models.Model):
    """One append-only log (日志) and its head."""

    # The ledger is its own record; publication and witnessing are audited explicitly.
    audit_writes = False

    name = models.SlugField(max_length=32, unique=True)
    hash_algorithm = models.CharField(max_length=8, default="sha256",
                                      choices=[("sha256", "SHA-256"), ("sm3", "SM3")])
    origin = models.CharField(max_length=200, unique=True)
    size = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [
            ("view_ledger", _("在工作台查看账本")),
            ("manage_ledger", _("发布检查点并登记见证部门")),
        ]

    def __str__(self) -> str:
        return self.name


class AppendOnlyError(Exception):
    """An attempt to change or delete a ledger entry or tile."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise AppendOnlyError("ledger entries and tiles are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("ledger entries and tiles are append-only")


class AppendOnly(models.Model):
    """Rows that are written once: a change would break every proof anyway, this only says
    so early."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise AppendOnlyError("ledger entries and tiles are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("ledger entries and tiles are append-only")


class Entry(AppendOnly):
    """One leaf: entry type, record hash, leaf hash and time (ms since the epoch, UTC)."""

    # The ledger is its own record; publication and witnessing are audited explicitly.
    audit_writes = False

    # The unique (log, index) constraint indexes log first: no separate index on log.
    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="entries",
                            db_index=False)
    index = models.BigIntegerField()
    entry_type = models.CharField(max_length=64)
    record_hash = models.BinaryField(max_length=32)
    leaf_hash = models.BinaryField(max_length=32)
    timestamp = models.BigIntegerField()
    # The canonical (JCS) record, kept so that an export can be re-hashed by an auditor.
    record = models.TextField(null=True, blank=True)

    class Meta(AppendOnly.Meta):
        constraints = [models.UniqueConstraint(fields=["log", "index"],
                                               name="ledger_entry_unique_index")]
        indexes = [
            models.Index(fields=["log", "record_hash"], name="ledger_entry_record"),
            models.Index(fields=["log", "leaf_hash"], name="ledger_entry_leaf"),
        ]

    def __str__(self) -> str:
        return f"{self.log_id}#{self.index} {self.entry_type}"


class Tile(AppendOnly):
    """A full tile (256 hashes, 8,192 bytes) of level ``level``, and its Merkle root."""

    # The ledger is its own record; publication and witnessing are audited explicitly.
    audit_writes = False

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="tiles",
                            db_index=False)
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hashes = models.BinaryField()
    root = models.BinaryField(max_length=32)

    class Meta(AppendOnly.Meta):
        constraints = [models.UniqueConstraint(fields=["log", "level", "index"],
                                               name="ledger_tile_unique")]

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index}"


class Checkpoint(models.Model):
    """A signed checkpoint (C2SP tlog-checkpoint) with the log's signature only; the
    cosignatures are kept apart and added to the note when it is served."""

    # The ledger is its own record; publication and witnessing are audited explicitly.
    audit_writes = False

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="checkpoints")
    size = models.BigIntegerField()
    root = models.BinaryField(max_length=32)
    note = models.TextField()
    key_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["log", "size"],
                                               name="ledger_checkpoint_unique_size")]
        get_latest_by = "size"

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class Cosignature(models.Model):
    """A witness's cosignature/v1 on a checkpoint."""

    # The ledger is its own record; publication and witnessing are audited explicitly.
    audit_writes = False

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT,
                                   related_name="cosignatures")
    witness = models.CharField(max_length=64)  # department code
    key_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)  # note key name
    timestamp = models.BigIntegerField()
    line = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["checkpoint", "witness"],
                                               name="ledger_cosignature_unique")]

    def __str__(self) -> str:
        return f"cosignature {self.witness} @{self.checkpoint_id}"


class WitnessState(models.Model):
    """What a witness last cosigned for a log: it cosigns only consistent extensions."""

    # The ledger is its own record; publication and witnessing are audited explicitly.
    audit_writes = False

    log = models.ForeignKey(Log, on_delete=models.PROTECT, related_name="witness_states")
    witness = models.CharField(max_length=64)
    size = models.BigIntegerField(default=0)
    root = models.BinaryField(max_length=32)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["log", "witness"],
                                               name="ledger_witness_unique")]

    def __str__(self) -> str:
        return f"witness {self.witness}: {self.size}"


class AnchorReceipt(models.Model):
    """The receipt of an anchoring plugin for a checkpoint it posted."""

    # The ledger is its own record; publication and witnessing are audited explicitly.
    audit_writes = False

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT,
                                   related_name="anchors")
    plugin = models.CharField(max_length=64)
    receipt = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.plugin} receipt @{self.checkpoint_id}"
