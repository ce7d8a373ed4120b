"""``/scim/v2/``: the base URL to give the identity provider (Entra's "Tenant URL", Okta's
"SCIM connector base URL"). Paths take an optional trailing slash: directories send none."""

from django.urls import re_path

from core.api import scim

app_name = "scim"

urlpatterns = [
    re_path(
        r"^ServiceProviderConfig/?$",
        scim.ServiceProviderConfigView.as_view(),
        name="service_provider_config",
    ),
    re_path(r"^ResourceTypes/?$", scim.ResourceTypesView.as_view(), name="resource_types"),
    re_path(
        r"^ResourceTypes/(?P<name>[^/]+)/?$",
        scim.ResourceTypesView.as_view(),
        name="resource_type",
    ),
    re_path(r"^Schemas/?$", scim.SchemasView.as_view(), name="schemas"),
    re_path(r"^Schemas/(?P<urn>[^/]+)/?$", scim.SchemasView.as_view(), name="schema"),
    re_path(r"^Users/?$", scim.UsersView.as_view(), name="users"),
    re_path(r"^Users/(?P<scim_id>[^/]+)/?$", scim.UserView.as_view(), name="user"),
    re_path(r"^Groups/?$", scim.GroupsView.as_view(), name="groups"),
    re_path(r"^Groups/(?P<scim_id>[^/]+)/?$", scim.GroupView.as_view(), name="group"),
    re_path(r"", scim.NotFoundView.as_view(), name="not_found"),
]
