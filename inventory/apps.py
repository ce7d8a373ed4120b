from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Models and GPU inventory"

    def ready(self):
        from . import lifecycle_hooks, merge_hooks

        lifecycle_hooks.register()
        merge_hooks.register()
