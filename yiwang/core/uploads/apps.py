from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "yiwang.core.uploads"
    label = "uploads"
    verbose_name = "上传文件 Uploads"
