"""``yiwang rotate-oidc-keys``: retire the ID-token signing key and activate the next one."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.support.identity.oidc import keys


class Command(BaseCommand):
    help = (
        "Rotate the OpenID Connect signing keys: the active key is retired (still published "
        "for a day), the next key becomes active and a new next key is published. Runs by "
        "itself every YIWANG_OIDC_KEY_ROTATION_DAYS; use this after a suspected compromise or "
        "to test rotation. With --if-due, rotate only when the active key is due."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true",
                            help="rotate even if the next key was published less than an hour "
                                 "ago (relying parties that cached the JWKS may not know it)")
        parser.add_argument("--if-due", action="store_true",
                            help="rotate only if the active key has been used long enough")

    def handle(self, *args: Any, force: bool, if_due: bool, **options: Any) -> None:
        if if_due:
            rotated = keys.rotate_if_due()
            self.stdout.write("Rotated." if rotated else "Not due yet; nothing changed.")
            return
        try:
            key = keys.rotate_signing_keys(force=force)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages) + " (--force to rotate anyway)") from None
        published = ", ".join(k["kid"] for k in keys.published_keys())
        self.stdout.write(self.style.SUCCESS(f"Active signing key: {key.kid}"))
        self.stdout.write(f"Published keys: {published}")
