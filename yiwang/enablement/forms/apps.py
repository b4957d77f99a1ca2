from django.apps import AppConfig


class FormsConfig(AppConfig):
    name = "yiwang.enablement.forms"
    label = "forms"
    verbose_name = "低代码表单 Forms"
