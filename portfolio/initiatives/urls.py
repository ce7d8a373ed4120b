"""Initiatives: list, register, detail, edit and stage changes (namespace ``portfolio``)."""

from django.urls import path

from portfolio.initiatives import views

urlpatterns = [
    path("", views.initiative_list, name="initiative_list"),
    path("new/", views.initiative_create, name="initiative_create"),
    path("<int:pk>/", views.initiative_detail, name="initiative_detail"),
    path("<int:pk>/edit/", views.initiative_update, name="initiative_update"),
    path("<int:pk>/stage/", views.initiative_change_stage, name="initiative_change_stage"),
]
