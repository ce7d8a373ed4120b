"""Turn domain exceptions raised by services into DRF responses, in one place: a
``core.exceptions.Conflict`` is a 409, any other Django ``ValidationError`` a 400 with
field-level messages, and a Django ``PermissionDenied`` a 403 that keeps the service's reason
(DRF would otherwise replace it with a generic sentence)."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import Conflict as DomainConflict


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object changed meanwhile."
    default_code = "conflict"


def exception_handler(exc, context):
    if isinstance(exc, DomainConflict):
        exc = Conflict(" ".join(exc.messages))
    elif isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {
                field: [str(m) for e in errors for m in e.messages]
                for field, errors in exc.error_dict.items()
            }
        else:
            detail = {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return drf_exception_handler(exc, context)


class ErrorDetailSerializer(serializers.Serializer):
    # The body of a refusal: {"detail": "<the service's reason>"}.
    detail = serializers.CharField()


def refusal_responses(
    *,
    invalid: str = "Invalid input.",
    forbidden: str = "Not allowed, with the reason.",
    not_found: str = "Not found, or not visible to the caller.",
    conflict: str | None = None,
    detailed: bool = False,
) -> dict:
    """The documented refusals of an endpoint that calls a service (``exception_handler``
    above makes them): 400, 403 with the reason, 404, and 409 when the service can conflict.
    ``detailed`` documents the ``{"detail": …}`` body of the 403 and 409."""
    body = ErrorDetailSerializer if detailed else None
    responses = {
        400: OpenApiResponse(description=invalid),
        403: OpenApiResponse(body, description=forbidden),
        404: OpenApiResponse(description=not_found),
    }
    if conflict:
        responses[409] = OpenApiResponse(body, description=conflict)
    return responses
