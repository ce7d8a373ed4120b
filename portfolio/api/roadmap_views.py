"""API of the roadmap (phases, activities, indicators), barrier assessments and the scaling
metrics. Reads follow the pages' scoping; writes go through ``portfolio.roadmap`` and
``portfolio.barriers`` (CoE admins change the roadmap; an initiative's editors and CoE staff
assess its barriers)."""

import django_filters
from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from portfolio import barriers, metrics, roadmap
from portfolio.choices import Barrier
from portfolio.models import BarrierAssessment, RoadmapPhase
from portfolio.selectors import initiative_list

from .roadmap_serializers import (
    BarrierAssessmentSerializer,
    BarrierScoreSerializer,
    MetricSerializer,
    RecomputeResultSerializer,
    RoadmapActivitySerializer,
    RoadmapPhaseSerializer,
    SuccessIndicatorSerializer,
)

REFUSALS = {
    400: OpenApiResponse(description="Invalid input."),
    403: OpenApiResponse(description="Not allowed (the roadmap is changed by CoE admins)."),
    404: OpenApiResponse(description="Not found, or not visible to the caller."),
}


def _call(service, **arguments):
    """Run a service, keeping its refusal's reason in the 403 (DRF would replace it)."""
    try:
        return service(**arguments)
    except PermissionDenied as error:
        raise exceptions.PermissionDenied(str(error) or None) from error


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
        return roadmap.phases_with_progress()

    def list(self, request, *args, **kwargs):
        if not RoadmapPhase.objects.exists():
            roadmap.roadmap_install_defaults()
        return super().list(request, *args, **kwargs)

    def perform_update(self, serializer):
        phase = _call(
            roadmap.roadmap_phase_update,
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
        return roadmap.roadmap_activity_list(user=self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        phase = data.pop("phase")
        activity = _call(
            roadmap.roadmap_activity_create, actor=self.request.user, phase=phase, data=data
        )
        serializer.instance = self.get_queryset().get(pk=activity.pk)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("phase", None)
        activity = _call(
            roadmap.roadmap_activity_update,
            actor=self.request.user,
            activity=serializer.instance,
            data=data,
        )
        serializer.instance = self.get_queryset().get(pk=activity.pk)

    def perform_destroy(self, instance):
        _call(roadmap.roadmap_activity_delete, actor=self.request.user, activity=instance)


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
        return roadmap.indicator_list()

    def perform_update(self, serializer):
        indicator = _call(
            roadmap.indicator_update,
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
        values = _call(roadmap.indicators_recompute, actor=request.user)
        return Response(RecomputeResultSerializer({"values": values}).data)


class BarrierAssessmentFilterSet(django_filters.FilterSet):
    # Plain ids (not model choices), so an unseen initiative gives an empty list, not a hint.
    initiative = django_filters.NumberFilter(field_name="initiative_id")
    business_unit = django_filters.NumberFilter(field_name="initiative__business_unit_id")
    barrier = django_filters.ChoiceFilter(choices=Barrier.choices)

    class Meta:
        model = BarrierAssessment
        fields = ["initiative", "business_unit", "barrier"]


@extend_schema(tags=["barriers"])
@extend_schema_view(
    create=extend_schema(
        responses={200: BarrierAssessmentSerializer, 201: BarrierAssessmentSerializer, **REFUSALS},
        description="Score one barrier of an initiative (1 = minor, 5 = severe). An existing "
        "score of the same initiative and barrier is changed (200) instead of duplicated.",
    ),
    partial_update=extend_schema(
        request=BarrierScoreSerializer, responses={200: BarrierAssessmentSerializer, **REFUSALS}
    ),
    update=extend_schema(
        request=BarrierScoreSerializer, responses={200: BarrierAssessmentSerializer, **REFUSALS}
    ),
)
class BarrierAssessmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Barrier scores of the initiatives the caller may see."""

    serializer_class = BarrierAssessmentSerializer
    filterset_class = BarrierAssessmentFilterSet

    def get_queryset(self):
        return barriers.barrier_assessment_list(user=self.request.user).order_by(
            "initiative_id", "barrier"
        )

    def _assess(self, *, initiative, barrier, score, note):
        existed = BarrierAssessment.objects.filter(initiative=initiative, barrier=barrier).exists()
        assessment = _call(
            barriers.barrier_assess,
            actor=self.request.user,
            initiative=initiative,
            barrier=barrier,
            score=score,
            note=note,
        )
        fresh = self.get_queryset().get(pk=assessment.pk)
        return Response(
            self.get_serializer(fresh).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )

    def create(self, request, *args, **kwargs):
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        return self._assess(
            initiative=data["initiative"],
            barrier=data["barrier"],
            score=data["score"],
            note=data.get("note", ""),
        )

    def update(self, request, *args, **kwargs):
        current = self.get_object()
        partial = kwargs.get("partial", False)
        payload = BarrierScoreSerializer(data=request.data, partial=partial)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        return self._assess(
            initiative=current.initiative,
            barrier=current.barrier,
            score=data.get("score", current.score),
            note=data["note"] if "note" in request.data else current.note,
        )


@extend_schema(tags=["metrics"], responses={200: MetricSerializer(many=True)})
class ScalingMetricsView(APIView):
    """The four scaling metrics over the initiatives the caller may see, each with its
    written definition, value (``null`` for no data), numerator and denominator."""

    def get(self, request):
        results = metrics.scaling_metrics(initiative_list(user=request.user))
        rows = [
            {
                "key": key,
                "name": definition.name,
                "unit": definition.unit,
                "definition": definition.definition,
                "lower_is_better": definition.lower_is_better,
                "value": results[key].value,
                "numerator": results[key].numerator,
                "denominator": results[key].denominator,
                "numerator_label": definition.numerator_label,
                "denominator_label": definition.denominator_label,
            }
            for key, definition in metrics.METRICS.items()
        ]
        return Response(MetricSerializer(rows, many=True).data)
