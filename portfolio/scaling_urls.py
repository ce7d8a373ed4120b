"""URLs included from portfolio/urls.py (namespace "portfolio")."""

urlpatterns = []
