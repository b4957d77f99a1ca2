from django.apps import AppConfig


class AssistantConfig(AppConfig):
    name = "yiwang.support.assistant"
    label = "assistant"
    verbose_name = "智能客服 Assistant"
