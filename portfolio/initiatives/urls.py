"""Initiatives: list, register, detail, edit and stage changes (namespace ``portfolio``)."""

from django.urls import path, re_path

from portfolio.initiatives import views

urlpatterns = [
    path("", views.initiative_list, name="initiative_list"),
    path("new/", views.initiative_create, name="initiative_create"),
    path("<int:pk>/", views.initiative_detail, name="initiative_detail"),
    # A human reference stands for the id: /initiatives/AI-0094/ and its sub-pages redirect.
    re_path(
        r"^(?P<reference>[Aa][Ii]-\d+)/(?P<rest>[-\w/]*)$",
        views.initiative_by_reference,
        name="initiative_by_reference",
    ),
    path("<int:pk>/edit/", views.initiative_update, name="initiative_update"),
    path("<int:pk>/stage/", views.initiative_change_stage, name="initiative_change_stage"),
]
