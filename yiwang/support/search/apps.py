from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "yiwang.support.search"
    label = "search"
    verbose_name = "统一搜索 Unified search"

    def ready(self) -> None:
        from yiwang.support.search import tasks  # noqa: F401 - registers the rebuild job
