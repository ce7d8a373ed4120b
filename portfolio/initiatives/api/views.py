from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from portfolio.initiatives import selectors, services
from portfolio.initiatives.api.serializers import (
    DeploymentSerializer,
    InitiativeSerializer,
    StageChangeSerializer,
    StageHistoryEntrySerializer,
)
from portfolio.initiatives.filtersets import InitiativeFilterSet

# The read-only sub-resources of one initiative: whole (small) lists, neither filtered by the
# initiative FilterSet nor paginated.
SUB_RESOURCE = {"detail": True, "methods": ["get"], "filter_backends": [], "pagination_class": None}


@extend_schema(tags=["initiatives"])
class InitiativeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Initiatives the caller may see. Writes go through ``portfolio.initiatives.services``."""

    serializer_class = InitiativeSerializer
    filterset_class = InitiativeFilterSet

    def get_queryset(self):
        return selectors.initiative_list(user=self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.initiative_create(
            actor=self.request.user, data=serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.initiative_update(
            actor=self.request.user, initiative=serializer.instance, data=serializer.validated_data
        )

    @extend_schema(request=StageChangeSerializer, responses=InitiativeSerializer)
    @action(detail=True, methods=["post"])
    def stage(self, request, pk=None):
        """Move the initiative to another stage (gated stages need an approved gate request)."""
        initiative = self.get_object()
        payload = StageChangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        updated = services.initiative_change_stage(
            actor=request.user,
            initiative=initiative,
            to_stage=payload.validated_data["to_stage"],
            reason=payload.validated_data["reason"],
        )
        return Response(self.get_serializer(updated).data)

    @extend_schema(
        responses={
            200: StageHistoryEntrySerializer(many=True),
            404: OpenApiResponse(description="No such initiative the caller may see."),
        },
        description="The initiative's stage changes, oldest first, with when, who and why.",
    )
    @action(url_path="stage-history", **SUB_RESOURCE)
    def stage_history(self, request, pk=None):
        initiative = selectors.initiative_get(user=request.user, pk=pk)
        history = selectors.initiative_stage_history(initiative=initiative)
        return Response(StageHistoryEntrySerializer(history, many=True).data)

    @extend_schema(
        responses={
            200: DeploymentSerializer(many=True),
            404: OpenApiResponse(description="No such initiative the caller may see."),
        },
        description="The business units the initiative is deployed to, with each status.",
    )
    @action(**SUB_RESOURCE)
    def deployments(self, request, pk=None):
        initiative = selectors.initiative_get(user=request.user, pk=pk)
        deployments = selectors.initiative_deployments(initiative=initiative).order_by("pk")
        return Response(DeploymentSerializer(deployments, many=True).data)
