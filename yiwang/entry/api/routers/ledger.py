"""JSON API of the ledger (防篡改账本) for external auditors: /api/v1/ledger on the public
listener (``public_router``; the internal listener serves the same reads).

Everything here is public by design: entries hold hashes and types only, never personal
data. Proofs are RFC 9162 (hashes in lower-case hex, leaf to root); checkpoints are C2SP
signed notes. Bad input is answered 400 (404 for an unknown log or entry), never 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from yiwang.enablement.ledger import service as ledger

public_router = Router(tags=["ledger"])
# The same public reads on the internal listener: no sign-in either. Requests under
# /api/v1/ledger/ run on the short middleware stack (YIWANG_STATELESS_PREFIXES), which has
# no sessions, so nothing here may ever need one.
internal_router = Router(tags=["ledger"], auth=None)

T = TypeVar("T")
NOT_FOUND = {"unknown_log", "not_found"}


class ErrorOut(Schema):
    code: str = Field(description="unknown_log, not_found, range, hash, …")
    detail: str = Field(description="可据以改正的说明")


class LogOut(Schema):
    name: str
    origin: str = Field(description="检查点的 origin 行,也是日志签名的密钥名")
    hash_algorithm: str = Field(description="sha256 或 sm3")
    size: int = Field(description="当前条目数")
    checkpoint_size: int | None = Field(description="最新检查点的树大小")
    log_keys: list[str] = Field(description="日志签名公钥(C2SP signed-note vkey)")
    witness_keys: list[str] = Field(description="见证方联署公钥(cosignature/v1 vkey)")


class CheckpointOut(Schema):
    log: str
    size: int
    root_hash: str
    note: str = Field(description="C2SP tlog-checkpoint 签名文本,含见证方联署")
    cosigners: list[str] = Field(description="已联署的见证部门编码")


class InclusionOut(Schema):
    log: str
    index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    hashes: list[str] = Field(description="RFC 9162 包含证明,自叶向根")
    checkpoint: str | None = Field(description="该树大小的签名检查点(若已发布)")


class ConsistencyOut(Schema):
    log: str
    old_size: int
    new_size: int
    old_root: str
    new_root: str
    hashes: list[str] = Field(description="RFC 9162 一致性证明")


class EntryOut(Schema):
    index: int
    entry_type: str
    record_hash: str
    leaf_hash: str
    timestamp: int = Field(description="写入时间,Unix 毫秒")


class InclusionQuery(Schema):
    index: int | None = Field(None, ge=0, description="条目序号")
    record_hash: str | None = Field(None, max_length=64, description="记录哈希(十六进制)")
    leaf_hash: str | None = Field(None, max_length=64, description="叶子哈希(十六进制)")
    tree_size: int | None = Field(None, ge=0, description="树大小,默认最新检查点")


class ConsistencyQuery(Schema):
    old_size: int = Field(ge=0)
    new_size: int | None = Field(None, ge=0, description="默认当前大小")


class RangeQuery(Schema):
    start: int = Field(0, ge=0)
    end: int | None = Field(None, ge=0, description="不含;一次最多 1000 条")


def _answer(call: Callable[[], T]) -> T | Status:
    try:
        return call()
    except ValidationError as exc:
        code = exc.code or "invalid"
        status = 404 if code in NOT_FOUND else 400
        return Status(status, ErrorOut(code=code, detail=" ".join(exc.messages)))


def _log_out(name: str) -> LogOut:
    info = ledger.get_log(name)
    latest = ledger.latest_checkpoint(name)
    return LogOut(name=info.name, origin=info.origin, hash_algorithm=info.hash_algorithm,
                  size=info.size, checkpoint_size=latest.size if latest else None,
                  log_keys=ledger.log_verifier_keys(name),
                  witness_keys=[w.vkey for w in ledger.witnesses()])


def _checkpoint_out(name: str) -> CheckpointOut:
    latest = ledger.latest_checkpoint(name)
    if latest is None:
        raise ValidationError(_("日志“%(name)s”还没有检查点。") % {"name": name},
                              code="not_found")
    return CheckpointOut(log=latest.log, size=latest.size, root_hash=latest.root_hash,
                         note=latest.note, cosigners=latest.cosigners)


def _inclusion(name: str, q: InclusionQuery) -> InclusionOut:
    index = q.index
    if index is None:
        if q.record_hash is None and q.leaf_hash is None:
            raise ValidationError(_("请给出 index、record_hash 或 leaf_hash 之一。"), code="query")
        found = ledger.find_entry(name, record_hash=q.record_hash, leaf_hash=q.leaf_hash)
        if found is None:
            raise ValidationError(_("账本中没有这个哈希的条目。"), code="not_found")
        index = found.index
    proof = ledger.inclusion_proof(name, index, q.tree_size)
    return InclusionOut(**proof.__dict__)


def _consistency(name: str, q: ConsistencyQuery) -> ConsistencyOut:
    return ConsistencyOut(**ledger.consistency_proof(name, q.old_size, q.new_size).__dict__)


def _entries(name: str, q: RangeQuery) -> list[EntryOut]:
    return [EntryOut(index=e.index, entry_type=e.entry_type, record_hash=e.record_hash,
                     leaf_hash=e.leaf_hash, timestamp=e.timestamp)
            for e in ledger.entries(name, q.start, q.end)]


ERRORS: dict[int, Any] = {400: ErrorOut, 404: ErrorOut}


def _routes(router: Router) -> None:
    @router.get("/logs", response=list[LogOut], summary="The ledger's logs and their keys")
    def logs(request: HttpRequest) -> list[LogOut]:
        return [_log_out(info.name) for info in ledger.list_logs()]

    @router.get("/logs/{log}", response={200: LogOut, **ERRORS},
                summary="One log: size, origin, verifier keys")
    def log_detail(request: HttpRequest, log: str) -> LogOut | Status:
        return _answer(lambda: _log_out(log))

    @router.get("/logs/{log}/checkpoint", response={200: CheckpointOut, **ERRORS},
                summary="The latest signed checkpoint with its cosignatures")
    def latest(request: HttpRequest, log: str) -> CheckpointOut | Status:
        return _answer(lambda: _checkpoint_out(log))

    @router.get("/logs/{log}/inclusion", response={200: InclusionOut, **ERRORS},
                summary="Inclusion proof by index, record hash or leaf hash")
    def inclusion(request: HttpRequest, log: str, q: Query[InclusionQuery]
                  ) -> InclusionOut | Status:
        return _answer(lambda: _inclusion(log, q))

    @router.get("/logs/{log}/consistency", response={200: ConsistencyOut, **ERRORS},
                summary="Consistency proof between two tree sizes")
    def consistency(request: HttpRequest, log: str, q: Query[ConsistencyQuery]
                    ) -> ConsistencyOut | Status:
        return _answer(lambda: _consistency(log, q))

    @router.get("/logs/{log}/entries", response={200: list[EntryOut], **ERRORS},
                summary="A range of entries (types and hashes)")
    def entries(request: HttpRequest, log: str, q: Query[RangeQuery]
                ) -> list[EntryOut] | Status:
        return _answer(lambda: _entries(log, q))


_routes(public_router)
_routes(internal_router)
