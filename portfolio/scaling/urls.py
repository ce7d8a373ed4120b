"""Deployments and adoption under /initiatives/<pk>/, the scaling page under /initiatives/scaling/
(namespace ``portfolio``)."""

from django.urls import path

from portfolio.scaling import views

urlpatterns = [
    path(
        "<int:pk>/deployments/",
        views.initiative_deployments,
        name="initiative_deployments",
    ),
    path("<int:pk>/adopt/", views.initiative_adopt, name="initiative_adopt"),
    path("scaling/", views.scaling_page, name="scaling"),
    path("scaling/<slug:key>/<slug:part>/", views.scaling_members, name="scaling_members"),
    *views.SCALING_MEMBERS_EXPORT.urlpatterns("scaling/<slug:key>/<slug:part>/", "scaling_members"),
]
