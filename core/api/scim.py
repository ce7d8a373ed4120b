"""The SCIM 2.0 endpoints under ``/scim/v2/`` (RFC 7644), thin over ``core.scim``:
discovery (``ServiceProviderConfig``, ``ResourceTypes``, ``Schemas``), ``Users`` and
``Groups``. Everything is ``application/scim+json`` (JSON is read too), errors are SCIM Error
messages (RFC 7644 §3.12), and the only way in is ``Authorization: Bearer keel_…`` with a
read-and-write token of an administrator: no session, so no CSRF to check."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.urls import reverse
from rest_framework import exceptions, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.authentication import BearerTokenAuthentication
from core.choices import TokenScope
from core.models import ApiToken
from core.scim import base, groups, users

SCIM_MEDIA_TYPE = "application/scim+json"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SERVICE_PROVIDER_CONFIG = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"


class ScimRenderer(JSONRenderer):
    media_type = SCIM_MEDIA_TYPE


class ScimParser(JSONParser):
    media_type = SCIM_MEDIA_TYPE


class ScimNegotiation(DefaultContentNegotiation):
    """Always answer SCIM JSON, whatever ``Accept`` says (Entra sends ``application/json``)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ScimTokenAuthentication(BearerTokenAuthentication):
    def authenticate_header(self, request):
        return 'Bearer realm="scim"'


class CanProvision(BasePermission):
    message = (
        "SCIM provisioning needs a read-and-write API token of an administrator "
        "(the Administrator role or a superuser)."
    )

    def has_permission(self, request, view):
        token = request.auth
        return (
            isinstance(token, ApiToken)
            and token.scope == TokenScope.READ_WRITE
            and base.can_provision(request.user)
        )


def error_response(detail: str, http_status: int, scim_type: str = "", headers=None):
    body = {"schemas": [ERROR], "status": str(http_status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return Response(body, status=http_status, headers=headers)


def scim_exception_handler(exc, context):
    """Every refusal as a SCIM Error; ``status`` is a string (RFC 7644 §3.12)."""
    if isinstance(exc, base.ScimError):
        return error_response(exc.detail, exc.status, exc.scim_type)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        scim_type = "invalidSyntax" if isinstance(exc, exceptions.ParseError) else ""
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return error_response(str(detail), exc.status_code, scim_type, headers)
    return None


class ScimView(APIView):
    authentication_classes = [ScimTokenAuthentication]
    permission_classes = [CanProvision]
    renderer_classes = [ScimRenderer]
    parser_classes = [ScimParser, JSONParser]
    content_negotiation_class = ScimNegotiation
    throttle_classes = []
    schema = None  # SCIM is described by its own /Schemas, not the OpenAPI document

    def get_exception_handler(self):
        return scim_exception_handler

    def location(self, url_name: str, /, **kwargs) -> str:
        return self.request.build_absolute_uri(reverse(f"scim:{url_name}", kwargs=kwargs))

    def body(self) -> dict:
        data = self.request.data
        if not isinstance(data, dict):
            raise base.ScimError("The body must be a JSON object.", scim_type="invalidSyntax")
        return data


def _names(request, key: str) -> set[str]:
    return {
        name.strip().lower()
        for name in (request.query_params.get(key) or "").split(",")
        if name.strip()
    }


def project(resource: dict, request) -> dict:
    """``attributes`` and ``excludedAttributes`` (RFC 7644 §3.4.2.5), on top-level attributes
    and one level of sub-attributes; ``schemas``, ``id`` and ``meta`` always stay."""
    keep, drop = _names(request, "attributes"), _names(request, "excludedAttributes")
    always = {"schemas", "id", "meta"}
    if keep:
        wanted = {name.split(".", 1)[0] for name in keep}
        resource = {k: v for k, v in resource.items() if k.lower() in wanted | always}
    for name in drop:
        top, _, sub = name.partition(".")
        for key in list(resource):
            if key.lower() != top or key.lower() in always:
                continue
            if not sub:
                del resource[key]
            elif isinstance(resource[key], dict):
                resource[key] = {k: v for k, v in resource[key].items() if k.lower() != sub}
    return resource


def list_response(total: int, start: int, resources: list) -> Response:
    return Response(
        {
            "schemas": [LIST_RESPONSE],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


# --- Representations -------------------------------------------------------------------------


def user_resource(view: ScimView, user) -> dict:
    identity = user.scim_identity
    scim_id = str(identity.scim_id)
    full_name = user.get_full_name()
    resource = {
        "schemas": [base.USER_SCHEMA],
        "id": scim_id,
        "userName": user.username,
        "name": {
            "givenName": user.first_name,
            "familyName": user.last_name,
            "formatted": full_name,
        },
        "displayName": full_name or user.username,
        "emails": ([{"value": user.email, "type": "work", "primary": True}] if user.email else []),
        "active": user.is_active,
        "groups": [
            {
                "value": str(group.scim_id),
                "$ref": view.location("group", scim_id=group.scim_id),
                "display": group.display_name,
            }
            for group in user.directory_groups.all()
        ],
        "meta": {
            "resourceType": "User",
            "created": user.date_joined.isoformat(),
            "lastModified": max(user.date_joined, identity.updated_at).isoformat(),
            "location": view.location("user", scim_id=scim_id),
        },
    }
    if identity.external_id:
        resource["externalId"] = identity.external_id
    return project(resource, view.request)


def group_resource(view: ScimView, group, *, members: bool = True) -> dict:
    resource = {
        "schemas": [base.GROUP_SCHEMA],
        "id": str(group.scim_id),
        "displayName": group.display_name,
        "meta": {
            "resourceType": "Group",
            "created": group.created_at.isoformat(),
            "lastModified": group.updated_at.isoformat(),
            "location": view.location("group", scim_id=group.scim_id),
        },
    }
    if group.external_id:
        resource["externalId"] = group.external_id
    if members:
        resource["members"] = [
            {
                "value": str(user.scim_identity.scim_id),
                "$ref": view.location("user", scim_id=user.scim_identity.scim_id),
                "display": user.username,
                "type": "User",
            }
            for user in group.members.all()
            if hasattr(user, "scim_identity")
        ]
    return project(resource, view.request)


def _wants_members(request) -> bool:
    keep = _names(request, "attributes")
    return "members" not in _names(request, "excludedAttributes") and (
        not keep or any(name.split(".", 1)[0] == "members" for name in keep)
    )


# --- Users and Groups ------------------------------------------------------------------------


class UsersView(ScimView):
    def get(self, request):
        total, page, start = users.users_page(
            actor=request.user,
            filter_text=request.query_params.get("filter", ""),
            start=request.query_params.get("startIndex"),
            count=request.query_params.get("count"),
        )
        return list_response(total, start, [user_resource(self, user) for user in page])

    def post(self, request):
        user = users.user_create(actor=request.user, body=self.body())
        created = users.user_get(actor=request.user, scim_id=user.scim_identity.scim_id)
        resource = user_resource(self, created)
        return Response(
            resource,
            status=status.HTTP_201_CREATED,
            headers={"Location": resource["meta"]["location"]},
        )


class UserView(ScimView):
    def resource(self, scim_id) -> Response:
        resource = user_resource(self, users.user_get(actor=self.request.user, scim_id=scim_id))
        return Response(resource, headers={"Location": resource["meta"]["location"]})

    def get(self, request, scim_id):
        return self.resource(scim_id)

    def put(self, request, scim_id):
        user = users.user_get(actor=request.user, scim_id=scim_id)
        users.user_replace(actor=request.user, user=user, body=self.body())
        return self.resource(scim_id)

    def patch(self, request, scim_id):
        user = users.user_get(actor=request.user, scim_id=scim_id)
        operations = {str(k).lower(): v for k, v in self.body().items()}.get("operations")
        users.user_patch(actor=request.user, user=user, operations=operations)
        return self.resource(scim_id)

    def delete(self, request, scim_id):
        user = users.user_get(actor=request.user, scim_id=scim_id)
        users.user_delete(actor=request.user, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupsView(ScimView):
    def get(self, request):
        members = _wants_members(request)
        total, page, start = groups.groups_page(
            actor=request.user,
            filter_text=request.query_params.get("filter", ""),
            start=request.query_params.get("startIndex"),
            count=request.query_params.get("count"),
            members=members,
        )
        resources = [group_resource(self, group, members=members) for group in page]
        return list_response(total, start, resources)

    def post(self, request):
        group = groups.group_create(actor=request.user, body=self.body())
        resource = group_resource(self, groups.group_get(actor=request.user, scim_id=group.scim_id))
        return Response(
            resource,
            status=status.HTTP_201_CREATED,
            headers={"Location": resource["meta"]["location"]},
        )


class GroupView(ScimView):
    def get(self, request, scim_id):
        members = _wants_members(request)
        group = groups.group_get(actor=request.user, scim_id=scim_id, members=members)
        resource = group_resource(self, group, members=members)
        return Response(resource, headers={"Location": resource["meta"]["location"]})

    def put(self, request, scim_id):
        group = groups.group_get(actor=request.user, scim_id=scim_id, members=False)
        groups.group_replace(actor=request.user, group=group, body=self.body())
        return self.get(request, scim_id)

    def patch(self, request, scim_id):
        """204 No Content, as Entra's documentation asks (a member list can be long)."""
        group = groups.group_get(actor=request.user, scim_id=scim_id, members=False)
        operations = {str(k).lower(): v for k, v in self.body().items()}.get("operations")
        groups.group_patch(actor=request.user, group=group, operations=operations)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def delete(self, request, scim_id):
        group = groups.group_get(actor=request.user, scim_id=scim_id, members=False)
        groups.group_delete(actor=request.user, group=group)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotFoundView(ScimView):
    """Any other path under /scim/v2/ (Bulk, Me…): a SCIM 404, once authenticated."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise base.ScimError(f"No SCIM endpoint at {request.path}.", status=404)


# --- Discovery (RFC 7644 §4) -----------------------------------------------------------------


def _attribute(
    name,
    type_="string",
    *,
    multi=False,
    required=False,
    mutability="readWrite",
    uniqueness="none",
    case_exact=False,
    sub=(),
    description="",
):
    attribute = {
        "name": name,
        "type": type_,
        "multiValued": multi,
        "description": description,
        "required": required,
        "caseExact": case_exact,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": uniqueness,
    }
    if sub:
        attribute["subAttributes"] = list(sub)
    return attribute


def _reference(sub_of: str) -> dict:
    return _attribute("$ref", "reference", mutability="immutable", description=sub_of) | {
        "referenceTypes": ["User", "Group"]
    }


USER_ATTRIBUTES = [
    _attribute(
        "userName",
        required=True,
        uniqueness="server",
        description="The Keel username, unique whatever its case.",
    ),
    _attribute(
        "name",
        "complex",
        sub=[
            _attribute("givenName", description="First name."),
            _attribute("familyName", description="Last name."),
            _attribute("formatted", mutability="readOnly", description="Full name."),
        ],
    ),
    _attribute("displayName", mutability="readOnly", description="Full name, else userName."),
    _attribute(
        "emails",
        "complex",
        multi=True,
        description="Keel keeps one address: the primary, else the work one, else the first.",
        sub=[
            _attribute("value"),
            _attribute("type", description="Always work."),
            _attribute("primary", "boolean"),
        ],
    ),
    _attribute(
        "active",
        "boolean",
        description="false deactivates: every session ends, API tokens stop working.",
    ),
    _attribute(
        "groups",
        "complex",
        multi=True,
        mutability="readOnly",
        description="Directory groups (change them through /Groups).",
        sub=[
            _attribute("value", mutability="readOnly"),
            _reference("The group"),
            _attribute("display", mutability="readOnly"),
        ],
    ),
]
GROUP_ATTRIBUTES = [
    _attribute(
        "displayName",
        required=True,
        uniqueness="server",
        description="Group mappings (People → Group mappings) name groups by it.",
    ),
    _attribute(
        "members",
        "complex",
        multi=True,
        description="People in the group; their mapped roles follow at once.",
        sub=[
            _attribute("value", mutability="immutable"),
            _reference("The member"),
            _attribute("display", mutability="readOnly"),
            _attribute("type", mutability="immutable"),
        ],
    ),
]
SCHEMAS = {
    base.USER_SCHEMA: ("User", "A person in Keel", USER_ATTRIBUTES),
    base.GROUP_SCHEMA: ("Group", "A directory group", GROUP_ATTRIBUTES),
}
RESOURCE_TYPES = {
    "User": ("/Users", base.USER_SCHEMA, "A person in Keel"),
    "Group": ("/Groups", base.GROUP_SCHEMA, "A directory group"),
}


class ServiceProviderConfigView(ScimView):
    def get(self, request):
        return Response(
            {
                "schemas": [SERVICE_PROVIDER_CONFIG],
                "patch": {"supported": True},
                "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
                "filter": {"supported": True, "maxResults": base.MAX_RESULTS},
                "changePassword": {"supported": False},
                "sort": {"supported": False},
                "etag": {"supported": False},
                "authenticationSchemes": [
                    {
                        "type": "oauthbearertoken",
                        "name": "Keel API token",
                        "description": (
                            "Authorization: Bearer keel_… — a read-and-write personal API "
                            "token of an administrator (Account → API tokens)."
                        ),
                        "primary": True,
                    }
                ],
                "meta": {
                    "resourceType": "ServiceProviderConfig",
                    "location": self.location("service_provider_config"),
                },
            }
        )


class ResourceTypesView(ScimView):
    def resource(self, name: str) -> dict:
        endpoint, schema, description = RESOURCE_TYPES[name]
        return {
            "schemas": [RESOURCE_TYPE],
            "id": name,
            "name": name,
            "endpoint": endpoint,
            "description": description,
            "schema": schema,
            "meta": {
                "resourceType": "ResourceType",
                "location": self.location("resource_type", name=name),
            },
        }

    def get(self, request, name=None):
        if name is None:
            resources = [self.resource(n) for n in RESOURCE_TYPES]
            return list_response(len(resources), 1, resources)
        if name not in RESOURCE_TYPES:
            raise base.ScimError(f"No resource type {name}.", status=404)
        return Response(self.resource(name))


class SchemasView(ScimView):
    def resource(self, urn: str) -> dict:
        name, description, attributes = SCHEMAS[urn]
        return {
            "schemas": [SCHEMA],
            "id": urn,
            "name": name,
            "description": description,
            "attributes": attributes,
            "meta": {"resourceType": "Schema", "location": self.location("schema", urn=urn)},
        }

    def get(self, request, urn=None):
        if urn is None:
            resources = [self.resource(u) for u in SCHEMAS]
            return list_response(len(resources), 1, resources)
        if urn not in SCHEMAS:
            raise base.ScimError(f"No schema {urn}.", status=404)
        return Response(self.resource(urn))
