"""Opening a material's file (review M5): the official who handles the application, or its
applicant, reads the upload through ``uploads.read_upload`` (audited as a read of personal
data, with the purpose); the views serve it with ``uploads.file_response`` (nosniff, a
sandbox CSP, images inline and anything else as an attachment)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from yiwang.industry.applications import integration as ext
from yiwang.industry.applications.models import Application, Material, MaterialSource
from yiwang.industry.applications.queries import (
    application_for_applicant,
    application_for_official,
)


def _material(app: Application, material_pk: Any) -> Material:
    try:
        pk = int(material_pk)
    except (TypeError, ValueError):
        pk = 0
    material = app.materials.filter(pk=pk, source=MaterialSource.UPLOAD).first()
    if material is None or not material.upload_token:
        raise PermissionDenied("no such material")
    return material


def _read(user: Any, material: Material, purpose: str) -> tuple[bytes, str, str]:
    upload = ext.uploads.get_upload(material.upload_token)
    if upload is None:
        raise PermissionDenied("the file is gone")
    content = ext.uploads.read_upload(upload.token, actor=user, purpose=purpose)
    return content, str(upload.content_type), str(upload.filename or material.name or "file")


def material_for_official(user: Any, app_pk: Any, material_pk: Any) -> tuple[bytes, str, str]:
    """``(bytes, content type, file name)`` of an uploaded material of an application the
    official may handle; PermissionDenied otherwise. The read is audited
    (``application.review``)."""
    app = application_for_official(user, app_pk)
    return _read(user, _material(app, material_pk), "application.review")


def material_for_applicant(user: Any, app_pk: Any, material_pk: Any
                           ) -> tuple[bytes, str, str]:
    """The same for the applicant of their own application (``application.applicant``)."""
    app = application_for_applicant(user, app_pk)
    return _read(user, _material(app, material_pk), "application.applicant")


