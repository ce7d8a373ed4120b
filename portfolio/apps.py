from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "portfolio"
    verbose_name = "Portfolio"

    def ready(self):
        from portfolio.duplicates.services import schedule_duplicate_detection
        from portfolio.initiatives.services import register_change_hook

        register_change_hook(schedule_duplicate_detection)

        from portfolio import navigation

        navigation.register()
