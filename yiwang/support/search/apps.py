from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "yiwang.support.search"
    label = "search"
    verbose_name = "统一搜索 Unified search"
