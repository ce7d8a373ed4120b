"""The portfolio's URLs under /initiatives/ (namespace ``portfolio``): one include per context."""

from django.urls import include, path

app_name = "portfolio"

urlpatterns = [
    path("", include("portfolio.initiatives.urls")),
    path("", include("portfolio.scaling.urls")),
    path("register/", include("portfolio.intake.urls")),
    path("duplicates/", include("portfolio.duplicates.urls")),
]
