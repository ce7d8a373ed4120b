from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from portfolio.duplicates import selectors as duplicate_selectors
from portfolio.duplicates import services as duplicate_services
from portfolio.duplicates.api.serializers import (
    DismissSerializer,
    DuplicateCandidateSerializer,
    DuplicateRefusalSerializer,
    MergeSerializer,
)
from portfolio.duplicates.choices import DuplicateStatus
from portfolio.duplicates.permissions import can_review_duplicates


class ReviewsDuplicates(permissions.BasePermission):
    """CoE reviewers and admins, risk officers and administrators."""

    message = "Only the CoE and risk officers review possible duplicates."

    def has_permission(self, request, view):
        return can_review_duplicates(request.user)


REFUSALS = {
    400: OpenApiResponse(description="Invalid input, or the merge is refused with a reason."),
    403: OpenApiResponse(DuplicateRefusalSerializer, description="Not allowed, with the reason."),
    404: OpenApiResponse(description="No such pair."),
    409: OpenApiResponse(DuplicateRefusalSerializer, description="The pair is already decided."),
}


@extend_schema(tags=["duplicates"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=DuplicateStatus.values,
                description="Which pairs (default: open).",
            )
        ],
        description="Possible duplicates (pairs of initiatives of different business units), "
        "best score first. Open pairs whose initiatives ended are left out.",
    ),
)
class DuplicateCandidateViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Possible duplicates, for the CoE and risk officers (403 for everyone else). Decisions
    go through ``portfolio.duplicates.services``."""

    serializer_class = DuplicateCandidateSerializer
    permission_classes = [permissions.IsAuthenticated, ReviewsDuplicates]

    def get_queryset(self):
        user = self.request.user
        if self.action == "list":
            requested = self.request.query_params.get("status") or DuplicateStatus.OPEN
            if requested not in DuplicateStatus.values:
                raise exceptions.ValidationError({"status": f"Unknown status {requested!r}."})
            return duplicate_selectors.duplicate_candidate_list(user=user, status=requested)
        return duplicate_selectors.duplicate_candidates(user=user).order_by("-score", "pk")

    def _respond(self, candidate):
        fresh = duplicate_selectors.duplicate_candidate_get(user=self.request.user, pk=candidate.pk)
        return Response(DuplicateCandidateSerializer(fresh).data)

    @extend_schema(request=None, responses={200: DuplicateCandidateSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def link(self, request, pk=None):
        """Link the two initiatives as related (both continue)."""
        candidate = self.get_object()
        duplicate_services.duplicate_link(actor=request.user, candidate=candidate)
        return self._respond(candidate)

    @extend_schema(
        request=DismissSerializer, responses={200: DuplicateCandidateSerializer, **REFUSALS}
    )
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        """Not duplicates: the pair is never flagged again."""
        candidate = self.get_object()
        payload = DismissSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        duplicate_services.duplicate_dismiss(
            actor=request.user,
            candidate=candidate,
            reason=payload.validated_data["reason"],
        )
        return self._respond(candidate)

    @extend_schema(
        request=MergeSerializer, responses={200: DuplicateCandidateSerializer, **REFUSALS}
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge into ``survivor``: the other initiative is retired with a pointer to it, and
        its GPU allocations, models and deployments move to it (CoE admins and
        administrators only)."""
        candidate = self.get_object()
        payload = MergeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        duplicate_services.duplicate_merge(
            actor=request.user,
            candidate=candidate,
            survivor=payload.validated_data["survivor"],
        )
        return self._respond(candidate)
