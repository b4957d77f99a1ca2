from django.apps import AppConfig


class CreditConfig(AppConfig):
    name = "yiwang.support.credit"
    label = "credit"
    verbose_name = "社会信用 Social credit"

    def ready(self) -> None:
        from yiwang.support.credit import searching, tasks  # noqa: F401 - registers the jobs
        from yiwang.support.search import service as search

        search.register_source("credit", searching.documents)
