"""Upload file names encrypted at rest (review 2026-11-27 session 2, L14).

The column becomes text holding ``encrypt_personal`` tokens; names already stored in clear
are encrypted in place (read and written with plain SQL: the model's field would try to
decrypt them).
"""

from django.db import migrations

import yiwang.core.crypto.fields

PURPOSE = "uploads.storedupload.filename"


def encrypt_names(apps, schema_editor):  # type: ignore[no-untyped-def]
    from yiwang.core.crypto import service as crypto

    connection = schema_editor.connection
    table = connection.ops.quote_name("uploads_storedupload")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, filename FROM {table}")  # noqa: S608 (no user input)
        rows = cursor.fetchall()
        for pk, name in rows:
            if name is None or str(name).startswith("v1$"):
                continue
            cursor.execute(f"UPDATE {table} SET filename = %s WHERE id = %s",  # noqa: S608
                           [crypto.encrypt_personal(str(name), PURPOSE), pk])


def decrypt_names(apps, schema_editor):  # type: ignore[no-untyped-def]
    from yiwang.core.crypto import service as crypto

    connection = schema_editor.connection
    table = connection.ops.quote_name("uploads_storedupload")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, filename FROM {table}")  # noqa: S608
        for pk, token in cursor.fetchall():
            if token and str(token).startswith("v1$"):
                name = crypto.decrypt_personal(str(token), PURPOSE)[:255]
                cursor.execute(f"UPDATE {table} SET filename = %s WHERE id = %s",  # noqa: S608
                               [name, pk])


class Migration(migrations.Migration):

    dependencies = [
        ('uploads', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='storedupload',
            name='filename',
            field=yiwang.core.crypto.fields.EncryptedTextField(verbose_name='文件名'),
        ),
        migrations.RunPython(encrypt_names, decrypt_names),
    ]
