"""The ``yiwang`` console command: Django's management commands with yiwang's settings.

Configuration problems stop the process with one line that names the variable and the
problem, instead of a traceback.
"""

from __future__ import annotations

import os
import sys

# Commands that serve or change data check their dependencies before they start.
PREFLIGHT_COMMANDS = {"serve", "worker", "demo", "migrate", "rotate-data-keys", "rotate_data_keys",
                      "rotate-key-master", "rotate_key_master"}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.conf.settings")
    from yiwang.conf.env import ConfigError

    try:
        import django

        django.setup()
        command = argv[1] if len(argv) > 1 else ""
        if command in PREFLIGHT_COMMANDS:
            from yiwang.core.health.service import check_dependencies

            check_dependencies()
    except ConfigError as exc:
        sys.stderr.write(f"yiwang: configuration error: {exc}\n")
        raise SystemExit(2) from None

    from django.core.management import execute_from_command_line

    # Dashes read better on a command line; Django's commands use underscores.
    if len(argv) > 1:
        argv[1] = argv[1].replace("-", "_")
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
