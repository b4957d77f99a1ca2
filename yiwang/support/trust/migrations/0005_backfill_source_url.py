"""Give the regions imported before the automatic refresh their source URL, derived as a
new import does (``imports.derived_source_url``): ``<base>/trust/list.json`` of the base
their key ids sit under. The logic is copied, not imported: a migration must not change
when the app's code does."""

from urllib.parse import urlsplit

from django.db import migrations


def _base_url(ref: str) -> str:
    base, found, _rest = ref.partition("/trust/")
    if not found:
        return ""
    try:
        parts = urlsplit(base)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return ""
    return f"{base}/trust/list.json"


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    ImportedTrustList = apps.get_model("trust", "ImportedTrustList")
    ImportedKey = apps.get_model("trust", "ImportedKey")
    for row in ImportedTrustList.objects.filter(superseded_at__isnull=True, source_url=""):
        for ref, issuer in ImportedKey.objects.filter(trust_list=row).values_list(
                "ref", "issuer_id"):
            url = _base_url(ref) or _base_url(issuer)
            if url and len(url) <= 500:
                ImportedTrustList.objects.filter(pk=row.pk).update(source_url=url)
                break


class Migration(migrations.Migration):

    dependencies = [
        ("trust", "0004_imported_list_source"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
