"""Roadmap URLs (namespace "roadmap"), mounted at /roadmap/."""

from django.urls import path

from portfolio.roadmap import views

app_name = "roadmap"

urlpatterns = [
    path("", views.roadmap_page, name="index"),
    path("indicators/recompute/", views.indicators_recompute, name="indicators_recompute"),
    path("indicators/<int:pk>/edit/", views.indicator_update, name="indicator_update"),
    path("phases/<int:pk>/edit/", views.phase_update, name="phase_update"),
    path("phases/<int:phase_pk>/activities/new/", views.activity_create, name="activity_create"),
    path("activities/<int:pk>/edit/", views.activity_update, name="activity_update"),
    path("activities/<int:pk>/delete/", views.activity_delete, name="activity_delete"),
    path("barriers/", views.barrier_heatmap, name="barrier_heatmap"),
    *views.BARRIER_HEATMAP_EXPORT.urlpatterns("barriers/", "barrier_heatmap"),
    # Not under ".../initiatives/...": the main menu marks "Initiatives" for such paths.
    path("barriers/<int:pk>/", views.initiative_barriers, name="initiative_barriers"),
]
