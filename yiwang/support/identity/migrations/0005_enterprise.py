# Reserved for the enterprise and account-administration work.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("identity", "0004_factors")]
    operations: list = []
