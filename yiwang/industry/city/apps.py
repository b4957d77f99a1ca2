from django.apps import AppConfig


class CityConfig(AppConfig):
    name = "yiwang.industry.city"
    label = "city"
    verbose_name = "城市管理 City management"

    def ready(self) -> None:
        from yiwang.enablement.ai import service as ai
        from yiwang.industry.city import service
        from yiwang.platform.perception import service as perception

        # an alarm whose rule names a case category opens a case, in the alarm's transaction;
        # so does a confident or confirmed video detection
        perception.register_handler("city.cases", service.case_from_alarm)
        ai.register_detection_handler("city.cases", service.case_from_detection)
