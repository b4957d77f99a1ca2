from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "yiwang.platform.orgs"
    label = "orgs"
    verbose_name = "组织机构 Organisations"
