"""Risk assessments, controls and the risk register (namespace ``governance``)."""

from django.urls import path

from governance.risk import views

initiative = "initiatives/<int:pk>/"
control = f"{initiative}controls/<str:code>/"

urlpatterns = [
    path("risk-register/", views.risk_register, name="risk_register"),
    path("risk-register/export.csv", views.risk_register_csv, name="risk_register_csv"),
    path(f"{initiative}risk/", views.assessment, name="assessment"),
    path(f"{initiative}risk/start/", views.assessment_start, name="assessment_start"),
    path(f"{initiative}risk/answer/", views.assessment_answer, name="assessment_answer"),
    path(f"{initiative}risk/complete/", views.assessment_complete, name="assessment_complete"),
    path(f"{initiative}risk/override/", views.assessment_override, name="assessment_override"),
    path(f"{initiative}risk-panel/", views.risk_panel, name="risk_panel"),
    path(f"{initiative}controls/", views.controls, name="controls"),
    path(f"{initiative}controls/evaluate/", views.controls_evaluate, name="controls_evaluate"),
    path(f"{control}evidence/", views.control_evidence, name="control_evidence"),
    path(f"{control}evidence/file/", views.control_evidence_file, name="control_evidence_file"),
    path(f"{control}review/", views.control_review, name="control_review"),
    path(f"{control}waive/", views.control_waive, name="control_waive"),
]
