"""URLs included from portfolio/urls.py (namespace "portfolio")."""

from django.urls import path

from portfolio.intake import views as wizard_views

urlpatterns = [
    path("", wizard_views.wizard_start, name="wizard_start"),
    path("<int:pk>/", wizard_views.wizard_resume, name="wizard_resume"),
]
