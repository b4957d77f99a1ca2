# Reserved for the authenticator work (TOTP, passkeys, recovery codes, QR login).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("identity", "0003_signin")]
    operations: list = []
