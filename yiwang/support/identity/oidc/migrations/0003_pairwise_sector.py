# Pairwise subjects per fixed sector (OpenID Connect Core 1.0, section 8.1): the free-text
# sector_identifier gives way to sector_identifier_uri (a document listing the redirect URIs)
# and the stored sector host. Each pairwise relying party keeps the sector it computed
# before, so no person's pairwise ``sub`` changes.

from urllib.parse import urlsplit

from django.db import migrations, models


def _hostname(uri):
    """urlsplit(uri).hostname, or None where the text is not a URL it can split (an
    unbalanced "[" of an IPv6 address, say)."""
    try:
        return urlsplit(uri).hostname
    except ValueError:
        return None


def _previous_sector(rp):
    """The sector the provider computed before this migration (claims.sector_of then);
    '' where it fell back to the client id, which sector_of still does. A sector
    identifier that is no URL urlsplit can split is kept as its text, as sector_of kept
    a URL without a host."""
    sector = (rp.sector_identifier or "").strip()
    if sector:
        return (_hostname(sector) or sector) if "://" in sector else sector.lower()
    for uri in (rp.redirect_uris or "").split():
        host = _hostname(uri)
        if host:
            return host.lower()
    return ""


def fix_sectors(apps, schema_editor):
    RelyingParty = apps.get_model("oidc", "RelyingParty")
    for rp in RelyingParty.objects.all().iterator():
        old = (rp.sector_identifier or "").strip()
        # Only a URL with a host becomes the document address (fetched on later edits).
        is_document = old.startswith(("https://", "http://")) and _hostname(old)
        rp.sector_identifier_uri = old[:512] if is_document else ""
        rp.sector = _previous_sector(rp)[:255] if rp.subject_type == "pairwise" else ""
        rp.save(update_fields=["sector_identifier_uri", "sector"])


def restore_sector_identifiers(apps, schema_editor):
    RelyingParty = apps.get_model("oidc", "RelyingParty")
    for rp in RelyingParty.objects.all().iterator():
        rp.sector_identifier = (rp.sector_identifier_uri or rp.sector)[:255]
        rp.save(update_fields=["sector_identifier"])


class Migration(migrations.Migration):

    dependencies = [
        ('oidc', '0002_sessions_and_keys'),
    ]

    operations = [
        migrations.AddField(
            model_name='relyingparty',
            name='sector_identifier_uri',
            field=models.URLField(blank=True, max_length=512, verbose_name='标识分区文档地址'),
        ),
        migrations.AddField(
            model_name='relyingparty',
            name='sector',
            field=models.CharField(blank=True, editable=False, max_length=255, verbose_name='标识分区'),
        ),
        migrations.RunPython(fix_sectors, restore_sector_identifiers),
        migrations.RemoveField(
            model_name='relyingparty',
            name='sector_identifier',
        ),
    ]
