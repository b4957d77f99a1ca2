from django.apps import AppConfig


class CityConfig(AppConfig):
    name = "yiwang.industry.city"
    label = "city"
    verbose_name = "城市管理 City management"

    def ready(self) -> None:
        from yiwang.industry.city import service
        from yiwang.platform.perception import service as perception

        # an alarm whose rule names a case category opens a case, in the alarm's transaction
        perception.register_handler("city.cases", service.case_from_alarm)
