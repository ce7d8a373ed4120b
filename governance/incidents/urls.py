from django.urls import path

from governance.incidents import views

incident = "incidents/<int:pk>/"

urlpatterns = [
    path("incidents/", views.incident_list, name="incident_list"),
    *views.INCIDENT_EXPORT.urlpatterns("incidents/", "incident_list"),
    path("incidents/new/", views.incident_new, name="incident_new"),
    path("incidents/regimes/", views.regime_list, name="reporting_regimes"),
    path("incidents/regimes/<int:pk>/edit/", views.regime_edit, name="regime_edit"),
    path(incident, views.incident_detail, name="incident_detail"),
    path(f"{incident}edit/", views.incident_edit, name="incident_edit"),
    path(f"{incident}transition/", views.incident_transition, name="incident_transition"),
    path(f"{incident}pause/", views.incident_pause, name="incident_pause"),
    path(f"{incident}draft/", views.incident_draft, name="incident_draft"),
    path(f"{incident}draft.pdf", views.incident_draft_download, name="incident_draft_download"),
    path(f"{incident}actions/", views.action_add, name="incident_action_add"),
    path(
        f"{incident}actions/<int:action_pk>/done/",
        views.action_complete,
        name="incident_action_complete",
    ),
    path(
        f"{incident}actions/<int:action_pk>/waive/",
        views.action_waive,
        name="incident_action_waive",
    ),
    path(
        f"{incident}reports/<int:report_pk>/record/",
        views.report_record,
        name="incident_report_record",
    ),
    path(
        f"{incident}reports/<int:report_pk>/file/", views.report_file, name="incident_report_file"
    ),
]
