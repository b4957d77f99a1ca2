"""Demo data of the tamper-evident ledger: three departments become witnesses (见证方), and
every log that has entries gets a signed checkpoint cosigned by them. Idempotent: a
department keeps its witness key, a checkpoint is signed only when its log grew, and a
witness cosigns only what it has not cosigned yet.

Run last (after the licences, seals and trust lists have written their entries).
"""

from __future__ import annotations

from collections.abc import Callable

from yiwang.enablement.ledger import service as ledger
from yiwang.platform.orgs import service as orgs

Progress = Callable[[str, int], Callable[[int], None]]

# 政务服务中心, 公安局 and 市场监管局 witness the region's ledger.
WITNESSES = ("zwfw", "gaj", "scjg")


def load_ledger(progress: Progress) -> None:
    """Enrol the witnesses, sign checkpoints of the logs that grew, cosign them."""
    present = [code for code in WITNESSES if orgs.get_department(code) is not None]
    logs = ledger.list_logs()
    tick = progress("账本 ledger", len(present) + len(logs))
    for code in present:
        ledger.enrol_witness(code)
        tick(1)
    for info in logs:
        ledger.publish_checkpoint(info.name)
        tick(1)
    ledger.witness_all()
