from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo organisation (``manage.py seed_demo``): no models, built by calling services."""

    name = "demo"
    verbose_name = "Demo organisation"
