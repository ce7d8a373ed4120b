from django.urls import include, path

from . import deployment_views, views

app_name = "portfolio"

urlpatterns = [
    path("", views.initiative_list, name="initiative_list"),
    path("new/", views.initiative_create, name="initiative_create"),
    path("<int:pk>/", views.initiative_detail, name="initiative_detail"),
    path("<int:pk>/edit/", views.initiative_update, name="initiative_update"),
    path("<int:pk>/stage/", views.initiative_change_stage, name="initiative_change_stage"),
    path(
        "<int:pk>/deployments/",
        deployment_views.initiative_deployments,
        name="initiative_deployments",
    ),
    path("<int:pk>/adopt/", deployment_views.initiative_adopt, name="initiative_adopt"),
    path("register/", include("portfolio.wizard_urls")),
    path("duplicates/", include("portfolio.duplicate_urls")),
    path("scaling/", include("portfolio.scaling_urls")),
]
