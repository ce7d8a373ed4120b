"""GPU requests, quotas and external keys (namespace ``inventory``)."""

from django.urls import path

from inventory.capacity import views

urlpatterns = [
    path("gpu-requests/", views.gpu_request_list, name="gpu_request_list"),
    *views.GPU_REQUEST_EXPORT.urlpatterns("gpu-requests/", "gpu_request_list"),
    path("gpu-requests/new/", views.gpu_request_create, name="gpu_request_create"),
    path("gpu-requests/<int:pk>/", views.gpu_request_detail, name="gpu_request_detail"),
    path("quotas/", views.quota_list, name="quota_list"),
    *views.QUOTA_EXPORT.urlpatterns("quotas/", "quota_list"),
    path("quotas/new/", views.quota_create, name="quota_create"),
    path("quotas/<int:pk>/edit/", views.quota_update, name="quota_update"),
    path("quotas/<int:pk>/delete/", views.quota_delete, name="quota_delete"),
    path("pools/<int:pk>/quotas/", views.pool_quotas, name="pool_quotas"),
    path("external-keys/", views.external_key_list, name="external_key_list"),
    *views.EXTERNAL_KEY_EXPORT.urlpatterns("external-keys/", "external_key_list"),
    path("external-keys/<int:pk>/delete/", views.external_key_delete, name="external_key_delete"),
]
