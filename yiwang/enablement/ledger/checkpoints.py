"""Signed checkpoints and witness cosigning (use them through service.py).

The log signs checkpoints (C2SP tlog-checkpoint) with its managed Ed25519 key (purpose
``ledger.checkpoint``, owner ``ledger:<log>``; the note key name is the log's origin).
A checkpoint is signed when the tree grew since the last one: by the periodic job, or on
demand — never on every append.

Witnesses (见证) are departments holding a managed Ed25519 key of purpose
``ledger.witness``. A witness cosigns (C2SP tlog-cosignature, cosignature/v1) only after
it has verified, against the state it keeps per log (the size and root it last cosigned):

1. the note parses as a checkpoint of this log (origin),
2. the log's signature verifies with a key of the log (not revoked),
3. the tree did not shrink, and a tree of the same size has the same root,
4. an RFC 9162 consistency proof from its last size to the new one verifies.

Any failure refuses with :class:`WitnessRefusal` naming the check (``reason``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.core.audit import service as audit
from yiwang.core.crypto import service as crypto
from yiwang.enablement.ledger import merkle, notes, tiles
from yiwang.enablement.ledger.logs import (
    CheckpointInfo,
    _checkpoint_info,
    _checkpoint_note,
    _error,
    _log,
    configured_logs,
    origin_prefix,
)
from yiwang.enablement.ledger.models import Checkpoint, Cosignature, Log, WitnessState

logger = logging.getLogger("yiwang.ledger")

CHECKPOINT_PURPOSE = "ledger.checkpoint"
WITNESS_PURPOSE = "ledger.witness"


class WitnessRefusal(ValidationError):
    """A witness refused to cosign; ``reason`` names the failed check."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message, code=reason.replace(" ", "_"))


@dataclass(frozen=True)
class WitnessInfo:
    department: str
    name: str  # note key name
    key_id: str
    vkey: str  # cosignature/v1 verifier key (type 0x04)


def raw_ed25519(spki_der: bytes) -> bytes:
    """The 32 raw bytes of an Ed25519 public key given as SPKI DER."""
    key = serialization.load_der_public_key(bytes(spki_der))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _owner(log: Log) -> str:
    return f"ledger:{log.name}"


def _log_key(log: Log) -> crypto.SigningKeyInfo:
    key = crypto.active_signing_key(_owner(log), CHECKPOINT_PURPOSE)
    if key is None or key.status != "active":
        key = crypto.create_signing_key(owner=_owner(log), purpose=CHECKPOINT_PURPOSE,
                                        algorithm="ed25519")
    return key


def log_verifier_keys(log: str = "main") -> list[str]:
    """The note verifier keys (vkeys) of every non-revoked checkpoint key of ``log``."""
    head = _log(log)
    found = []
    for key in crypto.list_signing_keys(owner=_owner(head), purpose=CHECKPOINT_PURPOSE):
        if key.status != "revoked" and key.algorithm == "ed25519":
            found.append(notes.verifier_key(head.origin, raw_ed25519(key.public_key)).vkey)
    return found


def _log_keys(log: Log) -> list[notes.VerifierKey]:
    return [notes.parse_vkey(v) for v in log_verifier_keys(log.name)]


@transaction.atomic
def publish_checkpoint(log: str = "main", *, actor: Any = None) -> CheckpointInfo | None:
    """Sign a checkpoint of ``log`` if it grew since the last one; return the latest
    checkpoint (None for an empty log that never had one)."""
    head = _log(log)
    locked = Log.objects.select_for_update().get(pk=head.pk)
    previous = Checkpoint.objects.filter(log=locked).order_by("-size").first()
    if previous is not None and previous.size == locked.size:
        return _checkpoint_info(locked, previous)
    if previous is None and locked.size == 0:
        return None
    reader = tiles.TileReader(locked, locked.size)
    root = reader.root()
    hasher = merkle.hasher_for(locked.hash_algorithm)
    if previous is not None:
        # A log must never sign a checkpoint inconsistent with one it signed before.
        try:
            merkle.verify_consistency(hasher, previous.size, locked.size,
                                      bytes(previous.root), root,
                                      reader.consistency_proof(previous.size))
        except merkle.ProofError as exc:
            logger.error("ledger %s: the tree is not consistent with checkpoint %d (%s); "
                         "no checkpoint signed", locked.name, previous.size, exc.reason)
            raise _error(_("日志“%(name)s”与上一个检查点(大小 %(size)d)不一致:账本数据可能"
                           "被改动,已拒绝签署新检查点。") % {"name": locked.name,
                                                   "size": previous.size},
                         "inconsistent") from None
    key = _log_key(locked)
    body = notes.Checkpoint(locked.origin, locked.size, root).body
    signature = crypto.sign_with_key(key.id, body.encode())
    line = notes.sign_line(locked.origin, raw_ed25519(key.public_key), signature)
    cp = Checkpoint.objects.create(log=locked, size=locked.size, root=root,
                                   note=notes.Note(body, [line]).serialise(), key_id=key.id)
    audit.record("ledger.checkpoint_published", cp, actor=actor, detail={
        "log": locked.name, "size": locked.size, "root": root.hex(), "key_id": key.id})
    from yiwang.enablement.ledger import anchors

    anchors.schedule(cp.pk)
    return _checkpoint_info(locked, cp)


def checkpoint(log: str = "main") -> str:
    """The latest signed checkpoint of ``log`` as a signed note (with its cosignatures),
    signing a new one first if the tree grew since (on demand)."""
    info = publish_checkpoint(log)
    if info is None:
        raise _error(_("日志“%(name)s”还没有任何记录,没有检查点。") % {"name": log}, "not_found")
    return info.note


# --- witnesses ---------------------------------------------------------------------------


def witness_name(department: str) -> str:
    return f"{origin_prefix()}/witness/{department}"


def _witness_info(key: crypto.SigningKeyInfo) -> WitnessInfo:
    name = witness_name(key.owner)
    vkey = notes.verifier_key(name, raw_ed25519(key.public_key), notes.COSIGNATURE_V1)
    return WitnessInfo(key.owner, name, key.id, vkey.vkey)


def witnesses() -> list[WitnessInfo]:
    """Every department with an active witness key, by department code."""
    keys = [k for k in crypto.list_signing_keys(purpose=WITNESS_PURPOSE)
            if k.status == "active" and k.algorithm == "ed25519"]
    return sorted((_witness_info(k) for k in keys), key=lambda w: w.department)


def witness_verifier_keys() -> list[tuple[str, str]]:
    """(department, vkey) of every non-revoked witness key, for exports."""
    found = []
    for key in crypto.list_signing_keys(purpose=WITNESS_PURPOSE):
        if key.status != "revoked" and key.algorithm == "ed25519":
            found.append((key.owner, _witness_info(key).vkey))
    return found


@transaction.atomic
def enrol_witness(department: str, *, actor: Any = None) -> WitnessInfo:
    """Give ``department`` a witness key (if it has none), so it cosigns checkpoints."""
    from yiwang.platform.orgs import service as orgs

    if not isinstance(department, str) or orgs.get_department(department) is None:
        raise _error(_("没有编码为“%(code)s”的部门。") % {"code": str(department)[:40]},
                     "not_found")
    key = crypto.active_signing_key(department, WITNESS_PURPOSE)
    if key is None:
        key = crypto.create_signing_key(owner=department, purpose=WITNESS_PURPOSE,
                                        algorithm="ed25519", actor=actor)
        audit.record("ledger.witness_enrolled", detail={"department": department,
                                                        "key_id": key.id}, actor=actor)
    return _witness_info(key)


def _refuse(reason: str, message: str) -> WitnessRefusal:
    return WitnessRefusal(reason, message)


def _verify_log_signature(log: Log, note: notes.Note) -> None:
    keys = _log_keys(log)
    if not keys:
        raise _refuse("forged checkpoint", _("该日志没有可用的签名密钥,无法核验检查点。"))
    for key in keys:
        try:
            notes.verify_signed_by(note, key)
            return
        except notes.NoteError as exc:
            if exc.reason == "signature does not verify":
                raise _refuse("forged checkpoint",
                              _("检查点上的日志签名验证失败:检查点被伪造或篡改。")) from None
    raise _refuse("forged checkpoint", _("检查点没有日志密钥的签名:检查点被伪造。"))


@transaction.atomic
def cosign(log: str, department: str, *, note: str | None = None,
           proof: list[str] | None = None, actor: Any = None) -> CheckpointInfo:
    """Witness ``department`` cosigns checkpoint ``note`` of ``log`` (default: the latest).

    ``proof`` (hex hashes) is the consistency proof from the witness's last cosigned size;
    when omitted the log is asked for it. Raises :class:`WitnessRefusal` naming the check
    that failed: ``malformed checkpoint``, ``wrong origin``, ``forged checkpoint``,
    ``tree shrank``, ``inconsistent tree``; ValidationError for an unknown log or witness.
    """
    head = _log(log)
    key = crypto.active_signing_key(department, WITNESS_PURPOSE) if isinstance(
        department, str) else None
    if key is None:
        raise _error(_("部门“%(code)s”不是见证方(没有见证密钥)。") % {"code": str(department)[:40]},
                     "not_found")
    if note is None:
        latest = Checkpoint.objects.filter(log=head).order_by("-size").first()
        if latest is None:
            raise _error(_("日志“%(name)s”还没有检查点。") % {"name": head.name}, "not_found")
        note = latest.note
    try:
        parsed = notes.parse_note(note)
        cp = notes.parse_checkpoint(parsed.text)
    except notes.NoteError as exc:
        raise _refuse("malformed checkpoint",
                      _("检查点格式不正确:%(reason)s") % {"reason": exc.reason}) from None
    if cp.origin != head.origin:
        raise _refuse("wrong origin", _("检查点属于另一个日志(%(origin)s)。")
                      % {"origin": cp.origin[:80]})
    _verify_log_signature(head, parsed)
    state, _created = WitnessState.objects.select_for_update().get_or_create(
        log=head, witness=department, defaults={"size": 0, "root": b""})
    hasher = merkle.hasher_for(head.hash_algorithm)
    if cp.size < state.size:
        raise _refuse("tree shrank", _("检查点的树(%(new)d)比该见证方上次联署的树(%(old)d)"
                                       "小:日志被回滚。") % {"new": cp.size, "old": state.size})
    if state.size:
        if proof is None:
            proof = [p.hex() for p in
                     tiles.TileReader(head, cp.size).consistency_proof(state.size)]
        try:
            hashes = [bytes.fromhex(p) for p in proof]
            merkle.verify_consistency(hasher, state.size, cp.size, bytes(state.root), cp.root,
                                      hashes)
        except ValueError as exc:
            reason = exc.reason if isinstance(exc, merkle.ProofError) else "malformed proof"
            raise _refuse("inconsistent tree",
                          _("检查点与该见证方上次联署的树(大小 %(old)d)不一致:%(reason)s")
                          % {"old": state.size, "reason": reason}) from None
    stored = Checkpoint.objects.filter(log=head, size=cp.size, root=cp.root).first()
    if stored is None:
        raise _refuse("unknown checkpoint", _("该检查点不是本日志发布的。"))
    timestamp = int(time.time())
    message = notes.cosignature_message(cp.body, timestamp)
    signature = crypto.sign_with_key(key.id, message)
    name = witness_name(department)
    line = notes.cosignature_line(name, raw_ed25519(key.public_key), timestamp, signature).line
    Cosignature.objects.update_or_create(
        checkpoint=stored, witness=department,
        defaults={"key_id": key.id, "name": name, "timestamp": timestamp, "line": line})
    state.size, state.root = cp.size, cp.root
    state.save(update_fields=["size", "root", "updated_at"])
    audit.record("ledger.cosigned", stored, actor=actor, detail={
        "log": head.name, "size": cp.size, "witness": department, "key_id": key.id})
    return _checkpoint_info(head, stored)


def witness_all(log: str | None = None) -> dict[str, list[str]]:
    """Every enrolled witness cosigns the latest checkpoint of each log (or ``log``) it has
    not cosigned yet. Refusals are logged and returned: {"cosigned": [...], "refused": [...]}.
    """
    result: dict[str, list[str]] = {"cosigned": [], "refused": []}
    names = [log] if log else list(configured_logs())
    for name in names:
        head = _log(name)
        latest = Checkpoint.objects.filter(log=head).order_by("-size").first()
        if latest is None:
            continue
        done = set(latest.cosignatures.values_list("witness", flat=True))
        for w in witnesses():
            if w.department in done:
                continue
            try:
                cosign(name, w.department, note=latest.note)
                result["cosigned"].append(f"{name}:{w.department}")
            except WitnessRefusal as exc:
                logger.warning("witness %s refused checkpoint %s of %s: %s", w.department,
                               latest.size, name, exc.reason)
                result["refused"].append(f"{name}:{w.department}:{exc.reason}")
    return result


def note_with_cosignatures(cp: Checkpoint) -> str:
    return _checkpoint_note(cp)
