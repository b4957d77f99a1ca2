"""The EU DCC form of the COSE kid (SHA-256 of the certificate, 8 bytes) as an indexed column,
filled in for certificates issued before it existed."""

import hashlib

from django.db import migrations, models


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    Certificate = apps.get_model("trust", "Certificate")
    for row in Certificate.objects.filter(certificate_kid="").iterator():
        row.certificate_kid = hashlib.sha256(bytes(row.der)).digest()[:8].hex()
        row.save(update_fields=["certificate_kid"])


class Migration(migrations.Migration):

    dependencies = [
        ("trust", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="certificate",
            name="certificate_kid",
            field=models.CharField(blank=True, db_index=True, max_length=16,
                                   verbose_name="证书密钥标识"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
