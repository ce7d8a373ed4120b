"""The GPU catalogue, pools and allocations, included in the ``inventory`` namespace."""

from django.urls import path

from inventory.gpu import views

urlpatterns = [
    path("gpu-types/", views.gpu_type_list, name="gpu_type_list"),
    *views.GPU_TYPE_EXPORT.urlpatterns("gpu-types/", "gpu_type_list"),
    path("gpu-types/new/", views.gpu_type_create, name="gpu_type_create"),
    path("gpu-types/<int:pk>/edit/", views.gpu_type_update, name="gpu_type_update"),
    path("pools/", views.pool_list, name="pool_list"),
    path(
        "pools/export.csv",
        views.pool_list_export,
        {"extension": "csv"},
        name="pool_list_csv",
    ),
    path(
        "pools/export.xlsx",
        views.pool_list_export,
        {"extension": "xlsx"},
        name="pool_list_xlsx",
    ),
    path("pools/new/", views.pool_create, name="pool_create"),
    path("pools/<int:pk>/", views.pool_detail, name="pool_detail"),
    path("pools/<int:pk>/edit/", views.pool_update, name="pool_update"),
    path("allocations/", views.allocation_list, name="allocation_list"),
    path(
        "allocations/export.csv",
        views.allocation_list_export,
        {"extension": "csv"},
        name="allocation_list_csv",
    ),
    path(
        "allocations/export.xlsx",
        views.allocation_list_export,
        {"extension": "xlsx"},
        name="allocation_list_xlsx",
    ),
    path("allocations/new/", views.allocation_create, name="allocation_create"),
    path("allocations/import/", views.allocation_import, name="allocation_import"),
    path("allocations/<int:pk>/", views.allocation_detail, name="allocation_detail"),
    path("allocations/<int:pk>/edit/", views.allocation_update, name="allocation_update"),
]
