from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Models and GPU inventory"

    def ready(self):
        from inventory import hooks as lifecycle_hooks
        from inventory import hooks as merge_hooks

        lifecycle_hooks.register()
        merge_hooks.register()

        from inventory import navigation

        navigation.register()
