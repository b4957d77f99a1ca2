"""Time the engine: ``.venv/bin/python -m yiwang.enablement.workflow.bench [N]``.

Runs N full lifecycles (start, then approve every ready task until the flow ends) of three
flows — one task, the demo flow with a gateway and a two-party countersign, and the imported
Camunda example — on one core, with the working calendar in memory (no database), and prints
milliseconds per lifecycle and per call and the state size. The applications benchmark
(benchmarks/applications.py) measures the whole HTTP lifecycle; this is the engine's share.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


def main(n: int = 300) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.conf.test")
    import django

    django.setup()
    from yiwang.enablement.workflow import calendar
    from yiwang.enablement.workflow import service as wf
    from yiwang.enablement.workflow import spec as spec_module

    demo = json.loads(calendar.DATA_2026.read_text(encoding="utf-8"))
    days = {d: k for d, k, _n in calendar._entries(demo)}
    calendar._days = lambda _calendar: days  # type: ignore[assignment]

    one = {
        "version": 1,
        "steps": [
            {"kind": "task", "id": "review", "name": "审查", "department": "$matter", "days": 3}
        ],
    }
    demo_flow: dict[str, Any] = {
        "version": 1,
        "steps": [
            {
                "kind": "task",
                "id": "accept",
                "name": "受理",
                "department": "$matter",
                "position": "clerk",
                "days": 1,
                "timer": {"after_days": 1, "action": "warn"},
            },
            {
                "kind": "gateway",
                "id": "gw",
                "branches": [
                    {
                        "when": {">": [{"var": "amount"}, 100]},
                        "steps": [
                            {
                                "kind": "countersign",
                                "id": "cs",
                                "name": "会签",
                                "parties": [
                                    {"department": "$matter", "position": "a"},
                                    {"department": "$matter", "position": "b"},
                                ],
                            }
                        ],
                    },
                    {"otherwise": True, "steps": []},
                ],
            },
            {
                "kind": "task",
                "id": "decide",
                "name": "决定",
                "department": "$matter",
                "position": "head",
                "days": 2,
            },
        ],
    }
    flows = {
        "one task": wf.build_bpmn(spec_module.check_spec(one, check_departments=False)),
        "gateway + countersign": wf.build_bpmn(
            spec_module.check_spec(demo_flow, check_departments=False)
        ),
        "imported example": wf.import_bpmn(
            (ROOT / "examples/bpmn/individual-business-registration.bpmn").read_bytes()
        )["bpmn"],
    }
    data = {"amount": 500, "business_kind": "food", "area": 30, "name": "x" * 20}
    for label, bpmn in flows.items():
        wf.start(bpmn, data)  # parse once (cached)
        calls = 0
        size = 0
        began = time.perf_counter()
        for _i in range(n):
            run = wf.start(bpmn, data)
            calls += 1
            size = max(size, len(json.dumps(run.state)))
            while not run.finished:
                run = wf.complete(bpmn, run.state, run.ready[0].id, outcome="approve")
                calls += 1
        elapsed = time.perf_counter() - began
        per_life = elapsed / n * 1000
        print(
            f"{label:24s} {per_life:6.2f} ms/lifecycle  {elapsed / calls * 1000:5.2f} ms/call  "
            f"{calls / n:.0f} calls  state <= {size} B  "
            f"({1000 / per_life:.0f} lifecycles/s on one core; goal of the whole HTTP "
            f"lifecycle: 50/s on 2 cores)"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
