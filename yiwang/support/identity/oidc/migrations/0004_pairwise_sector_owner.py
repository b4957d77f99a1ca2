# Each pairwise sector belongs to one department for good (see models.PairwiseSector and
# sectors.py): a permanent table of sectors, back-filled from the sectors relying parties
# hold now.
#
# The back-fill goes through relying parties in the order they were registered (by id),
# subject type and state regardless: the first one holding a sector gives it its
# department. Should existing data already have the same sector with relying parties of
# two departments (the provider refused that since 0003, but not before), the first
# registered keeps it: the migration does not fail, and the other department's relying
# parties keep working as they are (their `sub`s do not change) — only a new claim of that
# sector by the other department is refused from now on. docs/identity.md says how to find
# such sectors.

from django.db import migrations, models


def fill_sectors(apps, schema_editor):
    RelyingParty = apps.get_model("oidc", "RelyingParty")
    PairwiseSector = apps.get_model("oidc", "PairwiseSector")
    seen = set(PairwiseSector.objects.values_list("host", flat=True))
    rows = (RelyingParty.objects.exclude(sector="").order_by("id")
            .values_list("sector", "department_code"))
    for host, department_code in rows.iterator():
        if host not in seen:
            seen.add(host)
            PairwiseSector.objects.create(host=host, department_code=department_code or "")


class Migration(migrations.Migration):

    dependencies = [
        ('oidc', '0003_pairwise_sector'),
    ]

    operations = [
        migrations.CreateModel(
            name='PairwiseSector',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('host', models.CharField(max_length=255, unique=True, verbose_name='标识分区')),
                ('department_code', models.CharField(blank=True, max_length=32, verbose_name='主管部门')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'verbose_name': '标识分区',
                'verbose_name_plural': '标识分区',
            },
        ),
        migrations.RunPython(fill_sectors, migrations.RunPython.noop),
    ]
