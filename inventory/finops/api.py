"""API for GPU findings and chargeback: reads through ``inventory.finops.selectors`` (scoped),
writes through ``inventory.finops.services.findings`` and ``inventory.finops.services.chargeback``
(permission checks and
audit there). Lists cost a constant number of queries."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from inventory.finops import selectors
from inventory.finops.choices import IdleSharePolicy
from inventory.finops.forms import FindingFilterSet, parse_month
from inventory.finops.models import ChargebackMonth, Finding
from inventory.finops.services import chargeback as chargeback_services
from inventory.finops.services import findings as finding_services

ERRORS = {
    400: OpenApiResponse(description="Invalid input, or refused with field errors."),
    403: OpenApiResponse(description="The caller may see the object but not change it."),
    404: OpenApiResponse(description="No such object the caller may see."),
    409: OpenApiResponse(description="Already acknowledged / resolved, or the month is closed."),
}


class FindingSerializer(serializers.ModelSerializer):
    business_unit_code = serializers.CharField(
        source="business_unit.code", read_only=True, default=None
    )
    initiative_reference = serializers.CharField(
        source="initiative.reference", read_only=True, default=None
    )

    class Meta:
        model = Finding
        fields = [
            "id",
            "kind",
            "status",
            "subject_key",
            "summary",
            "detail",
            "monthly_waste",
            "currency",
            "allocation",
            "device",
            "pool",
            "business_unit",
            "business_unit_code",
            "initiative",
            "initiative_reference",
            "first_seen_at",
            "last_seen_at",
            "notified_at",
            "acted_by",
            "acted_at",
            "reason",
        ]
        read_only_fields = fields


class FinOpsReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Required; recorded in the audit log.")


class ChargebackPolicySerializer(serializers.Serializer):
    policy = serializers.ChoiceField(
        choices=IdleSharePolicy.choices, required=False, help_text="Default: the month's policy."
    )


class ChargebackMonthSerializer(serializers.ModelSerializer):
    month = serializers.DateField(format="%Y-%m", read_only=True)

    class Meta:
        model = ChargebackMonth
        fields = ["month", "status", "policy", "currency", "computed_at", "closed_at"]
        read_only_fields = fields


class BUTotalSerializer(serializers.Serializer):
    business_unit = serializers.IntegerField(source="business_unit.pk")
    business_unit_code = serializers.CharField(source="business_unit.code")
    business_unit_name = serializers.CharField(source="business_unit.name")
    direct = serializers.DecimalField(max_digits=18, decimal_places=6)
    idle_share = serializers.DecimalField(max_digits=18, decimal_places=6)
    shared_share = serializers.DecimalField(max_digits=18, decimal_places=6)
    adjustments = serializers.DecimalField(max_digits=18, decimal_places=6)
    total = serializers.DecimalField(max_digits=18, decimal_places=6)
    orphaned = serializers.DecimalField(max_digits=18, decimal_places=6)


ORG_TOTALS = (
    "orphaned",
    "unattributed",
    "unattributed_adjustments",
    "idle_separate",
    "shared_separate",
    "grand_total",
)


def _chargeback_body(row, user) -> dict:
    body = ChargebackMonthSerializer(row).data
    if row.computed_at is None:
        body["business_units"] = []
        return body
    figures = selectors.chargeback_by_bu(row, user)
    body["business_units"] = BUTotalSerializer(figures["rows"], many=True).data
    body["bu_total"] = str(figures["bu_total"])
    for name in ORG_TOTALS:
        if name in figures:
            body[name] = str(figures[name])
    summary = selectors.chargeback_summary(row, user)
    if summary is not None:
        body["reconciliation"] = {
            key: (value if isinstance(value, bool | int) else str(value))
            for key, value in summary.items()
        }
    return body


@extend_schema(tags=["gpu"])
@extend_schema_view(
    list=extend_schema(summary="GPU waste findings the caller may see, most waste first"),
    retrieve=extend_schema(summary="One finding"),
)
class GPUFindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = FindingSerializer
    filterset_class = FindingFilterSet

    def get_queryset(self):
        return selectors.findings_list(self.request.user)

    def _act(self, request, service):
        finding = self.get_object()
        payload = FinOpsReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        service(actor=request.user, finding=finding, reason=payload.validated_data["reason"])
        finding = self.get_queryset().get(pk=finding.pk)
        return Response(FindingSerializer(finding).data)

    @extend_schema(
        summary="Acknowledge an open finding (reason required)",
        request=FinOpsReasonSerializer,
        responses={200: FindingSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._act(request, finding_services.finding_acknowledge)

    @extend_schema(
        summary="Resolve an open or acknowledged finding (reason required)",
        request=FinOpsReasonSerializer,
        responses={200: FindingSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._act(request, finding_services.finding_resolve)


@extend_schema(tags=["gpu"])
@extend_schema_view(
    list=extend_schema(summary="Computed chargeback months"),
    retrieve=extend_schema(
        summary="A month's chargeback: totals per business unit the caller may see "
        "(organisation totals and reconciliation for organisation-wide readers)"
    ),
)
class ChargebackViewSet(viewsets.GenericViewSet):
    serializer_class = ChargebackMonthSerializer
    lookup_field = "month"
    lookup_value_regex = r"\d{4}-\d{2}"
    queryset = ChargebackMonth.objects.order_by("-month")

    def _month(self):
        month = parse_month(self.kwargs["month"])
        if month is None:
            raise Http404
        return month

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ChargebackMonthSerializer(page, many=True).data)

    def retrieve(self, request, month=None):
        row = get_object_or_404(ChargebackMonth, month=self._month())
        return Response(_chargeback_body(row, request.user))

    @extend_schema(
        summary="Compute (or recompute) an open month",
        request=ChargebackPolicySerializer,
        responses={200: OpenApiResponse(description="The month's chargeback."), **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def compute(self, request, month=None):
        payload = ChargebackPolicySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        row = chargeback_services.chargeback_compute(
            month=self._month(), policy=payload.validated_data.get("policy"), actor=request.user
        )
        return Response(_chargeback_body(row, request.user))

    @extend_schema(
        summary="Close (freeze) a month",
        request=None,
        responses={200: OpenApiResponse(description="The month's chargeback."), **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, month=None):
        row = chargeback_services.chargeback_close(actor=request.user, month=self._month())
        return Response(_chargeback_body(row, request.user))

    @extend_schema(
        summary="Reopen a closed month (reason required)",
        request=FinOpsReasonSerializer,
        responses={200: OpenApiResponse(description="The month's chargeback."), **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, month=None):
        payload = FinOpsReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        row = chargeback_services.chargeback_reopen(
            actor=request.user, month=self._month(), reason=payload.validated_data["reason"]
        )
        return Response(_chargeback_body(row, request.user), status=status.HTTP_200_OK)


def register(router) -> None:
    """Add this module's viewsets to the API router."""
    router.register("gpu-findings", GPUFindingViewSet, basename="gpu-finding")
    router.register("chargeback", ChargebackViewSet, basename="chargeback")
