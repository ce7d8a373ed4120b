"""Roadmap URLs (namespace "roadmap")."""

app_name = "roadmap"

urlpatterns = []
