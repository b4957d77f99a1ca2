"""``yiwang ledger``: export a log, audit an export offline, sign checkpoints and witness.

    yiwang ledger export [--log main] DIR       entries, checkpoints and keys to DIR
    yiwang ledger verify DIR --log-key VKEY…  audit DIR offline; exit 1 naming failures
    yiwang ledger checkpoint [--log main]       sign a checkpoint now if the log grew
    yiwang ledger witness [--log main]          every witness cosigns the latest checkpoint
    yiwang ledger enrol-witness DEPARTMENT      give a department a witness key
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "The tamper-evident ledger: export, offline verification, checkpoints, witnesses."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="write a log to a directory")
        export.add_argument("directory")
        export.add_argument("--log", default="main")
        verify = sub.add_parser("verify", help="audit an export offline")
        verify.add_argument("directory")
        verify.add_argument("--log-key", action="append", dest="log_keys",
                            help="trusted log verifier key (vkey); repeat for several")
        verify.add_argument("--witness-key", action="append", dest="witness_keys",
                            help="trusted witness verifier key (cosignature/v1 vkey)")
        verify.add_argument("--trust-export-keys", action="store_true",
                            help="use the keys listed in the export itself (checks only that "
                                 "the export is consistent: anyone can re-sign a forged one)")
        verify.add_argument("--min-cosignatures", type=int, default=0, metavar="N",
                            help="require the latest checkpoint to be cosigned by at least N "
                                 "of the trusted witness keys (a quorum)")
        verify.add_argument("--no-progress", action="store_true")
        cp = sub.add_parser("checkpoint", help="sign a checkpoint if the log grew")
        cp.add_argument("--log", default="main")
        witness = sub.add_parser("witness", help="witnesses cosign the latest checkpoints")
        witness.add_argument("--log", default=None)
        enrol = sub.add_parser("enrol-witness", help="give a department a witness key")
        enrol.add_argument("department")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, "_" + action.replace("-", "_"))(options)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None

    def _bar(self, total: int, disable: bool) -> Any:
        from tqdm import tqdm

        return tqdm(total=total, unit="entries", disable=disable, file=sys.stderr,
                    mininterval=0.5)

    def _export(self, options: dict[str, Any]) -> None:
        from yiwang.enablement.ledger import export, service

        size = service.get_log(options["log"]).size
        with self._bar(size, size < 10_000) as bar:
            meta = export.export_log(options["log"], options["directory"], progress=bar.update)
        self.stdout.write(f"exported {meta['size']} entries of {meta['log']} "
                          f"to {options['directory']}")

    def _verify(self, options: dict[str, Any]) -> None:
        import json
        from pathlib import Path

        from yiwang.enablement.ledger import offline

        if not options["log_keys"] and not options["trust_export_keys"]:
            raise CommandError(
                "give the log's verifier key with --log-key (from a source you trust, e.g. "
                "GET /api/v1/ledger/logs on the instance, or its published documentation): "
                "keys read from the export prove nothing, since a forger re-signs with their "
                "own. --trust-export-keys checks the export's consistency alone.")
        try:
            total = int(json.loads((Path(options["directory"]) / "log.json")
                                   .read_text(encoding="utf-8"))["size"])
        except (OSError, ValueError, KeyError, TypeError):
            total = 0
        with self._bar(total, options["no_progress"] or total < 10_000) as bar:
            report = offline.verify_export(options["directory"], log_keys=options["log_keys"],
                                           witness_keys=options["witness_keys"],
                                           min_cosignatures=options["min_cosignatures"],
                                           progress=bar.update)
        for note in report.notes:
            self.stderr.write(f"note: {note}")
        self.stdout.write(f"entries {report.entries}, records re-hashed {report.records}, "
                          f"checkpoints {report.checkpoints}, "
                          f"cosignatures {report.cosignatures}")
        if not report.ok:
            for failure in report.failures:
                self.stderr.write(f"FAILED {failure}")
            if report.more_failures:
                self.stderr.write(f"… and {report.more_failures} more failures")
            raise CommandError(f"the export does not verify: "
                               f"{len(report.failures) + report.more_failures} failure(s)")
        self.stdout.write("OK: every record, leaf, root, signature, cosignature and "
                          "consistency proof verified")

    def _checkpoint(self, options: dict[str, Any]) -> None:
        from yiwang.enablement.ledger import service

        info = service.publish_checkpoint(options["log"])
        if info is None:
            raise CommandError("the log is empty: no checkpoint")
        self.stdout.write(info.note, ending="")

    def _witness(self, options: dict[str, Any]) -> None:
        from yiwang.enablement.ledger import service

        result = service.witness_all(options["log"])
        for item in result["cosigned"]:
            self.stdout.write(f"cosigned {item}")
        for item in result["refused"]:
            self.stderr.write(f"REFUSED {item}")
        if result["refused"]:
            raise CommandError("some witnesses refused to cosign")

    def _enrol_witness(self, options: dict[str, Any]) -> None:
        from yiwang.enablement.ledger import service

        info = service.enrol_witness(options["department"])
        self.stdout.write(f"{info.department}: {info.vkey}")
