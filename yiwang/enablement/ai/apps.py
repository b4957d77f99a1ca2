from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "yiwang.enablement.ai"
    label = "ai"
    verbose_name = "人工智能 AI"
