"""The model registry and vendors, included in the ``inventory`` namespace."""

from django.urls import path

from inventory.registry import views

urlpatterns = [
    path("models/", views.model_list, name="model_list"),
    path("models/export.csv", views.model_list_csv, name="model_list_csv"),
    path("models/export.xlsx", views.model_list_xlsx, name="model_list_xlsx"),
    path("reviews-overdue/", views.overdue_review_list, name="overdue_review_list"),
    *views.OVERDUE_REVIEW_EXPORT.urlpatterns("reviews-overdue/", "overdue_review_list"),
    path("models/new/", views.model_create, name="model_create"),
    path("models/<int:pk>/", views.model_detail, name="model_detail"),
    path("models/<int:pk>/edit/", views.model_update, name="model_update"),
    path(
        "models/<int:pk>/versions/new/",
        views.model_version_create,
        name="model_version_create",
    ),
    path(
        "models/<int:pk>/versions/<int:version_pk>/status/",
        views.model_version_status,
        name="model_version_status",
    ),
    path(
        "models/<int:pk>/versions/<int:version_pk>/release/",
        views.model_version_release,
        name="model_version_release",
    ),
    path(
        "models/<int:pk>/versions/<int:version_pk>/validation/",
        views.model_version_validation,
        name="model_version_validation",
    ),
    path(
        "models/<int:pk>/versions/<int:version_pk>/monitoring/",
        views.model_version_monitoring,
        name="model_version_monitoring",
    ),
    path(
        "models/<int:pk>/versions/<int:version_pk>/metrics/",
        views.model_version_metric,
        name="model_version_metric",
    ),
    path(
        "models/<int:pk>/versions/<int:version_pk>/model-card.pdf",
        views.model_card_pdf,
        name="model_card_pdf",
    ),
    path("vendors/", views.vendor_list, name="vendor_list"),
    *views.VENDOR_EXPORT.urlpatterns("vendors/", "vendor_list"),
    path("vendors/new/", views.vendor_create, name="vendor_create"),
    path("vendors/<int:pk>/", views.vendor_detail, name="vendor_detail"),
    path("vendors/<int:pk>/edit/", views.vendor_update, name="vendor_update"),
    path(
        "vendors/<int:pk>/products/new/",
        views.vendor_product_create,
        name="vendor_product_create",
    ),
    path(
        "vendors/<int:pk>/products/<int:product_pk>/edit/",
        views.vendor_product_update,
        name="vendor_product_update",
    ),
]
