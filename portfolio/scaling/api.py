"""API of barrier assessments, the scaling metrics and adoption by another business unit."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.exceptions import refusal_responses
from core.models import BusinessUnit
from governance.approvals.models import ApprovalRequest
from portfolio.initiatives import selectors
from portfolio.initiatives.api.serializers import DeploymentSerializer
from portfolio.initiatives.selectors import initiative_list
from portfolio.roadmap.api.serializers import (
    BarrierAssessmentSerializer,
    BarrierScoreSerializer,
    MetricSerializer,
)
from portfolio.scaling import metrics
from portfolio.scaling import services as barriers
from portfolio.scaling.choices import Barrier
from portfolio.scaling.models import BarrierAssessment
from portfolio.scaling.selectors import barrier_assessment_list
from portfolio.scaling.views import adopt_initiative

REFUSALS = refusal_responses(forbidden="Not allowed (the roadmap is changed by CoE admins).")


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
        return barrier_assessment_list(user=self.request.user).order_by("initiative_id", "barrier")

    def _assess(self, *, initiative, barrier, score, note):
        existed = BarrierAssessment.objects.filter(initiative=initiative, barrier=barrier).exists()
        assessment = barriers.barrier_assess(
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


class AdoptSerializer(serializers.Serializer):
    business_unit = serializers.PrimaryKeyRelatedField(
        queryset=BusinessUnit.objects.all(),
        help_text="The caller's business unit that adopts the initiative.",
    )
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class AdoptionRequestSerializer(serializers.ModelSerializer):
    # A plain number: the tier's choices already have a name in the schema.
    tier = serializers.IntegerField(read_only=True, help_text="Risk tier, 1–4.")

    class Meta:
        model = ApprovalRequest
        fields = ["id", "gate", "tier", "status", "fast_tracked", "submitted_at"]
        read_only_fields = fields


class AdoptionSerializer(serializers.Serializer):
    deployment = DeploymentSerializer()
    approval_request = AdoptionRequestSerializer()


class InitiativeAdoptView(APIView):
    """Adopt an initiative in another business unit through the Scale gate."""

    @extend_schema(
        tags=["initiatives"],
        request=AdoptSerializer,
        responses={
            201: AdoptionSerializer,
            400: OpenApiResponse(
                description="Refused with field errors: not adoptable, already deployed in "
                "that unit, or the Scale gate's blockers."
            ),
            403: OpenApiResponse(description="The caller cannot adopt for that unit."),
            404: OpenApiResponse(description="No such initiative the caller may see."),
            409: OpenApiResponse(description="A Scale request is already open."),
        },
        description="Plan a deployment of the initiative for one of the caller's business "
        "units and submit it for the Scale gate; approval puts the deployment in production "
        "(a Tier 1 request with passing automated controls is fast-tracked).",
    )
    def post(self, request, pk):
        initiative = selectors.initiative_get(user=request.user, pk=pk)
        payload = AdoptSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        deployment, approval = adopt_initiative(
            actor=request.user,
            initiative=initiative,
            business_unit=payload.validated_data["business_unit"],
            comment=payload.validated_data["comment"],
        )
        body = AdoptionSerializer({"deployment": deployment, "approval_request": approval})
        return Response(body.data, status=status.HTTP_201_CREATED)
