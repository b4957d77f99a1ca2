from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "yiwang.core.tasks"
    label = "tasks"
    verbose_name = "后台任务 Background tasks"
