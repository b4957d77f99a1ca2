"""``yiwang sms-outbox``: the messages the local SMS gateway "sent" (demo and development).

The local gateway stands for a real SMS provider: instead of reaching a phone it appends each
message to ``YIWANG_DATA_DIR/sms/outbox.jsonl``. This command shows the newest ones, so that
whoever runs the demo can read the one-time code that a real phone would have received.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.support.identity import sms
from yiwang.support.identity.accounts import validate_phone


class Command(BaseCommand):
    help = "Show the newest messages of the local SMS gateway's outbox (one-time codes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--phone", help="only messages to this phone number")
        parser.add_argument("-n", "--limit", type=int, default=10, help="how many (default 10)")

    def handle(self, *args: Any, phone: str | None = None, limit: int = 10,
               **options: Any) -> None:
        if settings.YIWANG_SMS_GATEWAY != "local":
            raise CommandError(
                f"YIWANG_SMS_GATEWAY is {settings.YIWANG_SMS_GATEWAY!r}: messages go to real "
                "phones, there is no local outbox to read.")
        if phone:
            try:
                phone = validate_phone(phone)
            except Exception as exc:
                raise CommandError(str(getattr(exc, "messages", [exc])[0])) from exc
        records = sms.read_outbox(phone, limit=max(1, limit))
        if not records:
            self.stdout.write(f"（空）No messages in {sms.outbox_path()}")
            return
        for record in records:
            params = record.get("params") or {}
            code = params.get("code", "")
            self.stdout.write(
                f"{record.get('at', '')[:19]}  {record.get('phone', '')}  "
                f"{record.get('text', '')}" + (f"  [code {code}]" if code else ""))
