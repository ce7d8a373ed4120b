from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.risk import controls, selectors, services
from governance.risk.api.serializers import (
    AnswersSerializer,
    AssessmentStartSerializer,
    BlockerSerializer,
    ControlResultSerializer,
    ControlSerializer,
    GateQuerySerializer,
    OverrideSerializer,
    RiskAssessmentSerializer,
    RiskRegisterSerializer,
    TierResultSerializer,
)
from governance.risk.filtersets import (
    ControlResultFilterSet,
    RiskAssessmentFilterSet,
    RiskRegisterFilterSet,
)
from governance.risk.models import ControlResult, RiskAssessment
from governance.risk.residual import with_residual
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.selectors import initiative_get, scope_initiatives


def _visible_initiatives(user):
    return scope_initiatives(Initiative.objects.all(), user)


@extend_schema(tags=["risk assessments"])
class RiskAssessmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Risk assessments of the initiatives the caller may see. Writes go through
    ``governance.risk.services``."""

    serializer_class = RiskAssessmentSerializer
    filterset_class = RiskAssessmentFilterSet

    def get_queryset(self):
        assessments = (
            RiskAssessment.objects.filter(initiative__in=_visible_initiatives(self.request.user))
            .select_related("initiative", "questionnaire", "assessed_by", "overridden_by")
            .order_by("-created_at", "-id")
        )
        return with_residual(assessments, inherent="score", initiative_ref="initiative")

    @extend_schema(request=AssessmentStartSerializer, responses=RiskAssessmentSerializer)
    @action(detail=False, methods=["post"])
    def start(self, request):
        """The initiative's draft assessment on the active questionnaire (created if needed,
        pre-filled from the current assessment when it used the same version)."""
        payload = AssessmentStartSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        initiative = initiative_get(user=request.user, pk=payload.validated_data["initiative"])
        draft = services.assessment_start(actor=request.user, initiative=initiative)
        return Response(self.get_serializer(self._reload(draft)).data)

    @extend_schema(request=AnswersSerializer, responses=TierResultSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """Save answers to a draft and return the live tier, rationale and unanswered
        questions. Invalid answers are 400 errors keyed by question; nothing is saved."""
        assessment = self.get_object()
        payload = AnswersSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = services.assessment_answer(
            actor=request.user, assessment=assessment, answers=payload.validated_data["answers"]
        )
        return Response(TierResultSerializer(result).data)

    @extend_schema(request=None, responses=RiskAssessmentSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Complete a draft whose questions are all answered; it becomes current."""
        completed = services.assessment_complete(actor=request.user, assessment=self.get_object())
        return Response(self.get_serializer(self._reload(completed)).data)

    @extend_schema(request=OverrideSerializer, responses=RiskAssessmentSerializer)
    @action(detail=True, methods=["post"])
    def override(self, request, pk=None):
        """Risk officers: set (or, with ``tier: null``, remove) an override of the current
        assessment's tier, with a written justification."""
        assessment = self.get_object()
        payload = OverrideSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        updated = services.assessment_override(
            actor=request.user,
            assessment=assessment,
            tier=payload.validated_data["tier"],
            justification=payload.validated_data["justification"],
        )
        return Response(self.get_serializer(self._reload(updated)).data)

    def _reload(self, assessment):
        return self.get_queryset().get(pk=assessment.pk)


@extend_schema(tags=["controls"])
class ControlViewSet(viewsets.ReadOnlyModelViewSet):
    """The control library with the gates and tiers that require each control."""

    serializer_class = ControlSerializer
    lookup_field = "code"
    filterset_fields = ["kind", "applies_when", "is_active"]

    def get_queryset(self):
        return selectors.control_list()


@extend_schema(tags=["controls"])
class ControlResultViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Control results of the initiatives the caller may see."""

    serializer_class = ControlResultSerializer
    filterset_class = ControlResultFilterSet

    def get_queryset(self):
        return (
            ControlResult.objects.filter(initiative__in=_visible_initiatives(self.request.user))
            .select_related("initiative", "control", "reviewer")
            .order_by("initiative_id", "control__code")
        )


@extend_schema(tags=["risk assessments"])
class RiskRegisterViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The risk register: visible initiatives with computed, override and effective tier,
    assessment date and control counts. Same filters as the HTML register."""

    serializer_class = RiskRegisterSerializer
    filterset_class = RiskRegisterFilterSet

    def get_queryset(self):
        # The counts GROUP BY, which drops the model's default ordering: order explicitly.
        return selectors.risk_register(user=self.request.user).order_by("reference")


@extend_schema(tags=["controls"])
class GateBlockersView(APIView):
    """Controls that stop an initiative passing a gate (an empty list: ready)."""

    @extend_schema(
        parameters=[GateQuerySerializer],
        responses=BlockerSerializer(many=True),
        operation_id="initiative_gate_blockers",
    )
    def get(self, request, pk):
        initiative = initiative_get(user=request.user, pk=pk)
        query = GateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        gate = query.validated_data.get("gate") or controls.NEXT_GATE.get(initiative.stage)
        if gate is None:
            return Response([], status=status.HTTP_200_OK)
        blockers = controls.gate_blockers(initiative, gate)
        return Response(BlockerSerializer(blockers, many=True).data)
