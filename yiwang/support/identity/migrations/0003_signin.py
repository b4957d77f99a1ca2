# Reserved for the sign-in work (accounts, one-time codes, throttling): hand-written operations.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("identity", "0002_identity_service")]
    operations: list = []
