# Permissions of the workbench's account and relying-party administration (hand-written:
# the enterprise/admin work's reserved migration).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("identity", "0004_factors")]
    operations = [
        migrations.AlterModelOptions(
            name="enterpriseaccount",
            options={
                "permissions": [
                    ("manage_accounts", "账户管理:查询账户、停用启用、结束会话、重置多因素认证"),
                    ("reveal_accounts", "查看账户的完整个人信息"),
                    ("manage_relying_parties", "接入应用管理"),
                ],
                "verbose_name": "法人账户",
                "verbose_name_plural": "法人账户",
            },
        ),
    ]
