# Sessions and tokens (Authorization), consent's asked scopes, service accounts, one active key.

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('identity', '0002_identity_service'),
        ('oidc', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Authorization',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('family', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('code_hash', models.CharField(max_length=64, unique=True)),
                ('acr', models.PositiveSmallIntegerField()),
                ('amr', models.JSONField(default=list)),
                ('auth_time', models.DateTimeField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('code_used_at', models.DateTimeField(blank=True, null=True)),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.AddField(
            model_name='consent',
            name='asked_scopes',
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name='relyingparty',
            name='allow_client_credentials',
            field=models.BooleanField(default=False, verbose_name='允许客户端凭证模式'),
        ),
        migrations.AddConstraint(
            model_name='signingkey',
            constraint=models.UniqueConstraint(condition=models.Q(('state', 'active')), fields=('state',), name='oidc_one_active_key'),
        ),
        migrations.AddConstraint(
            model_name='signingkey',
            constraint=models.UniqueConstraint(condition=models.Q(('state', 'next')), fields=('state',), name='oidc_one_next_key'),
        ),
        migrations.AddField(
            model_name='authorization',
            name='application',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.OAUTH2_PROVIDER_APPLICATION_MODEL),
        ),
        migrations.AddField(
            model_name='authorization',
            name='session',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='identity.accountsession'),
        ),
        migrations.AddField(
            model_name='authorization',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='authorization',
            index=models.Index(fields=['user', 'application'], name='oidc_authz_user_app'),
        ),
    ]
