"""Approval requests, the queue, policies and delegations (namespace ``governance``)."""

from django.urls import path

from governance.approvals import views

initiative = "initiatives/<int:pk>/"

urlpatterns = [
    path(f"{initiative}requests/", views.initiative_requests, name="initiative_requests"),
    path(f"{initiative}submit/", views.request_submit, name="request_submit"),
    path("approvals/", views.queue, name="queue"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/decide/", views.request_decide, name="request_decide"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("requests/<int:pk>/resubmit/", views.request_resubmit, name="request_resubmit"),
    path("requests/<int:pk>/escalate/", views.request_escalate, name="request_escalate"),
    path("policies/", views.policy_list, name="policy_list"),
    *views.POLICY_EXPORT.urlpatterns("policies/", "policy_list"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("delegations/", views.delegations, name="delegations"),
]
