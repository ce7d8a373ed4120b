"""URLs included from portfolio/urls.py (namespace "portfolio"), under /initiatives/scaling/."""

from django.urls import path

from . import scaling_views

urlpatterns = [
    path("", scaling_views.scaling_page, name="scaling"),
    path("<slug:key>/<slug:part>/", scaling_views.scaling_members, name="scaling_members"),
]
