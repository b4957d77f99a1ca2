"""Models of the crypto app: only a probe table for self checks and tests."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.crypto.fields import EncryptedTextField


class EncryptionProbe(models.Model):
    """A row that self checks and tests send through ``EncryptedTextField``; no real data."""

    secret = EncryptedTextField(_("密文探针"))
    note = EncryptedTextField(_("备注"), null=True, blank=True, purpose="crypto.probe.note")

    class Meta:
        verbose_name = _("加密探针")
        verbose_name_plural = _("加密探针")

    def __str__(self) -> str:
        return f"EncryptionProbe {self.pk}"
