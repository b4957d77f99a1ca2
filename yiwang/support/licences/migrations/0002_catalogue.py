"""Ship the licence types of yiwang/support/licences/catalogue.py (营业执照, 出生医学证明,
不动产权证书, 社会保障卡, 无犯罪记录证明, 结婚证). Types already present are left alone."""

from django.db import migrations


def load(apps, schema_editor):  # type: ignore[no-untyped-def]
    from yiwang.support.licences.catalogue import TYPES

    LicenceType = apps.get_model("licences", "LicenceType")
    for spec in TYPES:
        LicenceType.objects.get_or_create(
            code=spec["code"], defaults={k: v for k, v in spec.items() if k != "code"})


def unload(apps, schema_editor):  # type: ignore[no-untyped-def]
    from yiwang.support.licences.catalogue import TYPES

    LicenceType = apps.get_model("licences", "LicenceType")
    LicenceType.objects.filter(code__in=[t["code"] for t in TYPES], licences__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("licences", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
