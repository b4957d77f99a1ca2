from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "yiwang.platform.regions"
    label = "regions"
    verbose_name = "行政区划与网格 Regions"

    def ready(self) -> None:
        from yiwang.platform.regions import signals

        signals.connect()
