"""API of the roadmap: phases, activities and success indicators. Refusals become 400/403/404
through ``core.api.exceptions``."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.exceptions import refusal_responses
from portfolio.roadmap import services as roadmap
from portfolio.roadmap.api.serializers import (
    RecomputeResultSerializer,
    RoadmapActivitySerializer,
    RoadmapPhaseSerializer,
    SuccessIndicatorSerializer,
)
from portfolio.roadmap.models import RoadmapPhase
from portfolio.roadmap.selectors import indicator_list, phases_with_progress, roadmap_activity_list

REFUSALS = refusal_responses(forbidden="Not allowed (the roadmap is changed by CoE admins).")


@extend_schema(tags=["roadmap"])
@extend_schema_view(
    partial_update=extend_schema(responses={200: RoadmapPhaseSerializer, **REFUSALS}),
    update=extend_schema(responses={200: RoadmapPhaseSerializer, **REFUSALS}),
)
class RoadmapPhaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The four phases with activity progress. CoE admins change dates, status, description."""

    serializer_class = RoadmapPhaseSerializer
    pagination_class = None

    def get_queryset(self):
        return phases_with_progress()

    def list(self, request, *args, **kwargs):
        if not RoadmapPhase.objects.exists():
            roadmap.roadmap_install_defaults()
        return super().list(request, *args, **kwargs)

    def perform_update(self, serializer):
        phase = roadmap.roadmap_phase_update(
            actor=self.request.user,
            phase=serializer.instance,
            data=serializer.validated_data,
        )
        serializer.instance = self.get_queryset().get(pk=phase.pk)


@extend_schema(tags=["roadmap"])
@extend_schema_view(
    create=extend_schema(responses={201: RoadmapActivitySerializer, **REFUSALS}),
    partial_update=extend_schema(responses={200: RoadmapActivitySerializer, **REFUSALS}),
    update=extend_schema(responses={200: RoadmapActivitySerializer, **REFUSALS}),
    destroy=extend_schema(responses={204: None, **REFUSALS}),
)
class RoadmapActivityViewSet(viewsets.ModelViewSet):
    """Roadmap activities with owner, due date, status, ``is_overdue`` and the linked
    initiatives the caller may see. CoE admins create, change and delete them; an
    activity's phase is set when it is created."""

    serializer_class = RoadmapActivitySerializer

    def get_queryset(self):
        return roadmap_activity_list(user=self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        phase = data.pop("phase")
        activity = roadmap.roadmap_activity_create(actor=self.request.user, phase=phase, data=data)
        serializer.instance = self.get_queryset().get(pk=activity.pk)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("phase", None)
        activity = roadmap.roadmap_activity_update(
            actor=self.request.user,
            activity=serializer.instance,
            data=data,
        )
        serializer.instance = self.get_queryset().get(pk=activity.pk)

    def perform_destroy(self, instance):
        roadmap.roadmap_activity_delete(actor=self.request.user, activity=instance)


@extend_schema(tags=["roadmap"])
@extend_schema_view(
    partial_update=extend_schema(responses={200: SuccessIndicatorSerializer, **REFUSALS}),
    update=extend_schema(responses={200: SuccessIndicatorSerializer, **REFUSALS}),
)
class SuccessIndicatorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Success indicators with target, current value and the last 180 days of history.
    CoE admins change a manual indicator, or only the target of a computed one."""

    serializer_class = SuccessIndicatorSerializer

    def get_queryset(self):
        return indicator_list()

    def perform_update(self, serializer):
        indicator = roadmap.indicator_update(
            actor=self.request.user,
            indicator=serializer.instance,
            data=serializer.validated_data,
        )
        serializer.instance = self.get_queryset().get(pk=indicator.pk)

    @extend_schema(request=None, responses={200: RecomputeResultSerializer, **REFUSALS})
    @action(detail=False, methods=["post"])
    def recompute(self, request):
        """Recompute every computed indicator now and store today's value (idempotent per
        day). CoE admins only."""
        values = roadmap.indicators_recompute(actor=request.user)
        return Response(RecomputeResultSerializer({"values": values}).data)
