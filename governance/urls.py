"""Governance URLs under /governance/ (namespace ``governance``): one include per context.
The dashboard and reports have their own namespace, ``dashboard``
(``governance.reporting.urls``)."""

from django.urls import include, path

from governance.reporting.urls import register_export_urlpatterns

app_name = "governance"

urlpatterns = [
    path("", include("governance.risk.urls")),
    path("", include("governance.approvals.urls")),
    path("", include("governance.imports.urls")),
    path("", include("governance.library.urls")),
    path("", include("governance.incidents.urls")),
    path("", include(register_export_urlpatterns)),
]
