from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "yiwang.industry.services"
    label = "services"
    verbose_name = "政务服务事项 Service catalogue"

    def ready(self) -> None:
        from yiwang.industry.services import searching, tasks  # noqa: F401 - registers the job

        searching.connect()
