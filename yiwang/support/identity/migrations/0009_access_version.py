from django.db import migrations, models

import yiwang.support.identity.models


class Migration(migrations.Migration):

    dependencies = [
        ("identity", "0008_session_level_cap"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="access_version",
            field=models.BigIntegerField(
                default=yiwang.support.identity.models.new_access_version, editable=False),
        ),
    ]
