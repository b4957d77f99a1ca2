"""Re-encryption of every ``EncryptedTextField`` value after a data key or cipher change."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction
from django.db.models import ExpressionWrapper, F, TextField

from yiwang.core.crypto import service
from yiwang.core.crypto.base import DecryptionError
from yiwang.core.crypto.fields import EncryptedTextField

# The raw token, read through a plain TextField so that the column is not decrypted on load.
_RAW = "yiwang_raw_token"


@dataclass
class FieldReport:
    """What rotation found and did for one encrypted column."""

    label: str  # app_label.model_name.field_name
    pending: int = 0  # values made with another key or cipher, before the run
    rotated: int = 0
    failed: int = 0  # values that could not be decrypted (left unchanged)


def encrypted_fields(
    only: Collection[str] | None = None,
) -> Iterator[tuple[type[models.Model], EncryptedTextField]]:
    """Every encrypted column: (model, field), once per table.

    ``only`` restricts to app labels (``registry``) or models (``registry.person``).
    """
    wanted = {label.lower() for label in only} if only else None
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        if wanted is not None and not wanted & {meta.app_label, meta.label_lower}:
            continue
        for field in meta.local_concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


def _pending(model: type[models.Model],
             field: EncryptedTextField) -> models.QuerySet[models.Model]:
    ring_prefix = f"{service.FORMAT_VERSION}${service.current_key_id()}${service.current_cipher()}$"
    return (
        model._base_manager.annotate(**{_RAW: ExpressionWrapper(F(field.attname),
                                                                output_field=TextField())})
        .filter(**{f"{_RAW}__isnull": False})
        .exclude(**{f"{_RAW}__startswith": ring_prefix})
    )


def count_pending(only: Collection[str] | None = None) -> int:
    """How many values, over all encrypted columns, are not made with the current key."""
    return sum(_pending(model, field).count() for model, field in encrypted_fields(only))


def rotate_field(model: type[models.Model], field: EncryptedTextField, *, batch_size: int = 500,
                 dry_run: bool = False,
                 on_batch: Callable[[int], object] | None = None) -> FieldReport:
    """Re-encrypt one column's outdated values, one transaction per batch, in key order."""
    report = FieldReport(f"{model._meta.label_lower}.{field.name}",
                         pending=_pending(model, field).count())
    if dry_run:
        return report
    last_pk = None
    while True:
        # Rows already re-encrypted no longer match; keyset pagination skips failed ones.
        queryset = _pending(model, field).order_by("pk")
        if last_pk is not None:
            queryset = queryset.filter(pk__gt=last_pk)
        with transaction.atomic():
            rows = list(queryset.select_for_update().values_list("pk", _RAW)[:batch_size])
            if not rows:
                break
            updated = []
            for pk, token in rows:
                try:
                    plaintext = service.decrypt_personal(token, field.purpose)
                except DecryptionError:
                    report.failed += 1
                    continue
                # Saving plaintext through the field encrypts it with the current key.
                updated.append(model(**{"pk": pk, field.attname: plaintext}))
            model._base_manager.bulk_update(updated, [field.name])
            report.rotated += len(updated)
        last_pk = rows[-1][0]
        if on_batch is not None:
            on_batch(len(rows))
    return report


def rotate_all(*, batch_size: int = 500, dry_run: bool = False,
               on_batch: Callable[[int], object] | None = None,
               only: Collection[str] | None = None) -> list[FieldReport]:
    """Rotate every encrypted column; record one audit event when anything changed."""
    reports = [rotate_field(model, field, batch_size=batch_size, dry_run=dry_run,
                            on_batch=on_batch)
               for model, field in encrypted_fields(only)]
    if not dry_run and any(r.rotated or r.failed for r in reports):
        from yiwang.core.audit.service import record

        record("crypto.rotate_data_keys", detail={
            "key_id": service.current_key_id(),
            "cipher": service.current_cipher(),
            "rotated": {r.label: r.rotated for r in reports if r.rotated},
            "failed": {r.label: r.failed for r in reports if r.failed},
        })
    return reports
