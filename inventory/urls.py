"""The inventory's URLs (namespace ``inventory``): one include per context."""

from django.urls import include, path

app_name = "inventory"

urlpatterns = [
    path("", include("inventory.registry.urls")),
    path("", include("inventory.gpu.urls")),
    path("", include("inventory.usage.urls")),
    path("", include("inventory.capacity.urls")),
    path("", include("inventory.finops.urls")),
]
