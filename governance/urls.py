from django.urls import include, path

from . import approval_views, views

app_name = "governance"

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
    path(f"{initiative}requests/", approval_views.initiative_requests, name="initiative_requests"),
    path(f"{initiative}submit/", approval_views.request_submit, name="request_submit"),
    path("approvals/", approval_views.queue, name="queue"),
    path("requests/<int:pk>/", approval_views.request_detail, name="request_detail"),
    path("requests/<int:pk>/decide/", approval_views.request_decide, name="request_decide"),
    path("requests/<int:pk>/withdraw/", approval_views.request_withdraw, name="request_withdraw"),
    path("requests/<int:pk>/resubmit/", approval_views.request_resubmit, name="request_resubmit"),
    path("requests/<int:pk>/escalate/", approval_views.request_escalate, name="request_escalate"),
    path("policies/", approval_views.policy_list, name="policy_list"),
    path("policies/<int:pk>/edit/", approval_views.policy_edit, name="policy_edit"),
    path("delegations/", approval_views.delegations, name="delegations"),
    # Bulk import and the register exports (issue 8), same namespace.
    path("", include("governance.urls_imports")),
    path("", include("governance.urls_exports")),
]
