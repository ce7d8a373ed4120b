"""URLs included from portfolio/urls.py at /initiatives/duplicates/ (namespace "portfolio")."""

from django.urls import path

from portfolio.duplicates import views as duplicate_views

urlpatterns = [
    path("", duplicate_views.duplicate_list, name="duplicate_list"),
    *duplicate_views.DUPLICATE_EXPORT.urlpatterns("", "duplicate_list"),
    path("<int:pk>/link/", duplicate_views.duplicate_link, name="duplicate_link"),
    path("<int:pk>/dismiss/", duplicate_views.duplicate_dismiss, name="duplicate_dismiss"),
    path("<int:pk>/merge/", duplicate_views.duplicate_merge, name="duplicate_merge"),
    path(
        "initiative/<int:pk>/",
        duplicate_views.duplicates_for_initiative,
        name="duplicates_for_initiative",
    ),
]
