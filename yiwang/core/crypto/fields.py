"""Model fields of the crypto app: ``EncryptedTextField`` (personal data encrypted at rest)."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import FieldError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression

from yiwang.core.crypto import service

_ALLOWED_LOOKUPS = {"isnull"}


class EncryptedTextField(models.TextField):
    """Text encrypted at rest with :func:`service.encrypt_personal`; plain ``str`` in Python.

    The column stores a token; reading a row decrypts it. ``purpose`` (bound into the
    encryption, so that a token copied to another column does not decrypt) defaults to
    ``"<app_label>.<model_name>.<field name>"`` — renaming a model or field therefore needs
    its values re-encrypted, or ``purpose`` set to the old name. The column cannot be
    searched or be unique: only ``isnull`` lookups work; search a :func:`service.blind_index`
    stored in another column instead. Audit records mark rows with such fields as personal.
    """

    description = "Text encrypted at rest"
    personal_data = True  # read by the audit app

    def __init__(self, *args: Any, purpose: str | None = None, **kwargs: Any) -> None:
        self._purpose = purpose
        super().__init__(*args, **kwargs)

    @property
    def purpose(self) -> str:
        if self._purpose:
            return self._purpose
        model = getattr(self, "model", None)
        if model is None:
            raise FieldError("EncryptedTextField has no purpose until it is added to a model")
        return f"{model._meta.app_label}.{model._meta.model_name}.{self.name}"

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self._purpose:
            kwargs["purpose"] = self._purpose
        return name, path, args, kwargs

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        for option in ("unique", "db_index", "primary_key"):
            if getattr(self, option, False) or getattr(self, f"_{option}", False):
                errors.append(checks.Error(
                    f"EncryptedTextField cannot be {option}: equal values encrypt differently.",
                    hint="Store a blind_index() of the value in an indexed column instead.",
                    obj=self, id="crypto.E001",
                ))
        return errors

    def from_db_value(self, value: str | None, expression: Expression,
                      connection: BaseDatabaseWrapper) -> str | None:
        if value is None:
            return None
        return service.decrypt_personal(value, self.purpose)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return service.encrypt_personal(str(value), self.purpose)

    def _refuse(self, lookup_name: str) -> FieldError:
        return FieldError(
            f"{self.purpose}: encrypted fields support only the isnull lookup, not "
            f"{lookup_name!r}. Search a blind index instead "
            "(yiwang.core.crypto.service.blind_index)."
        )

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in _ALLOWED_LOOKUPS:
            raise self._refuse(lookup_name)
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name: str) -> Any:
        raise self._refuse(lookup_name)
