from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class TasksConfig(AppConfig):
    name = "yiwang.core.tasks"
    label = "tasks"
    verbose_name = "后台任务 Background tasks"

    def ready(self) -> None:
        # Every installed app declares its tasks and periodic jobs in its own tasks.py.
        autodiscover_modules("tasks")
