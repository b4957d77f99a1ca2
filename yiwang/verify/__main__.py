"""``python -m yiwang.verify`` — verify a licence offline.

::

    python -m yiwang.verify --bundle bundle.json [--status-list FILE ...] <file-or-text>

The input is a file (a VC ``.json``, a sealed ``.pdf``, or a text file holding a QR text), a
QR text or VC JSON given directly, or ``-`` for standard input. Each check is printed in
Chinese and English. Exit status: 0 valid, 1 invalid, 2 usage error (bad arguments, an
unreadable bundle or file).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from yiwang.verify import keys
from yiwang.verify.bundle import BundleError, TrustBundle
from yiwang.verify.offline import Verifier

EXIT_VALID, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _status_lists(paths: list[str]) -> dict[str, Any]:
    lists: dict[str, Any] = {}
    for path in paths:
        data = json.loads(Path(path).read_bytes())
        items = data if isinstance(data, list) else [data]
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise ValueError(f"{path}: not a status list credential (no id)")
            lists[item["id"]] = item
    return lists


def _read_input(arg: str) -> bytes | str:
    if arg == "-":
        return sys.stdin.buffer.read()
    path = Path(arg)
    if len(arg) < 4096 and path.is_file():
        return path.read_bytes()
    return arg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m yiwang.verify",
        description="离线核验电子证照 (verify an electronic licence offline): a VC (JSON), a "
                    "QR text (YW1:…) or a sealed PDF.")
    parser.add_argument("--bundle", required=True, help="trust bundle JSON (/trust/bundle.json)")
    parser.add_argument("--status-list", action="append", default=[], metavar="FILE",
                        help="a cached status list credential (repeatable)")
    parser.add_argument("--now", help="verify as of this time (ISO 8601), default: now")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("input", help="file, QR text, VC JSON, or - for standard input")
    args = parser.parse_args(argv)
    out = sys.stdout
    try:
        bundle = TrustBundle.load(args.bundle)
        lists = _status_lists(args.status_list)
        now = keys.parse_time(args.now) if args.now else None
        item = _read_input(args.input)
    except (BundleError, OSError, ValueError, RecursionError) as exc:
        print(f"用法错误 (usage error): {exc}", file=sys.stderr)
        return EXIT_USAGE
    result = Verifier(bundle, lists, now=now).verify(item)
    if args.json:
        json.dump(result.to_dict(), out, ensure_ascii=False, indent=2, default=str)
        out.write("\n")
    else:
        for check in result.checks:
            mark = "✓" if check.ok else "✗"
            out.write(f"{mark} {check.name}: {check.message}\n")
        if result.valid:
            out.write("结果：有效 (result: VALID)\n")
        else:
            failed = ", ".join(result.failed_names()) or "no checks"
            out.write(f"结果：无效 (result: INVALID — failed: {failed})\n")
    return EXIT_VALID if result.valid else EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
