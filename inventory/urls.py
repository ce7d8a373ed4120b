from django.urls import path

from . import views

app_name = "inventory"

urlpatterns = [
    path("models/", views.model_list, name="model_list"),
    path("models/<int:pk>/", views.model_detail, name="model_detail"),
    path("pools/", views.pool_list, name="pool_list"),
    path("pools/<int:pk>/", views.pool_detail, name="pool_detail"),
    path("allocations/", views.allocation_list, name="allocation_list"),
    path("allocations/<int:pk>/", views.allocation_detail, name="allocation_detail"),
]
