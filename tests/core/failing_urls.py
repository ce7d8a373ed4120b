"""Keel's URLs plus one view that fails, for the 500 page test."""

from django.urls import include, path


def broken(request):
    raise RuntimeError("A view that fails, to show the 500 page.")


urlpatterns = [path("broken/", broken), path("", include("config.urls"))]
