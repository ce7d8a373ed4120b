"""API for GPU utilisation and imported GPU costs (read-only).

* ``GET /api/gpu-utilisation/?start=&end=&business_unit=&pool=``: the business unit × pool
  rows of ``inventory.usage.selectors.utilisation_by_bu_and_pool`` for the period (default: the
  last 30 days), with the target band and the activity metric they are judged by.
* ``GET /api/gpu-costs/``: imported FOCUS cost records (``CostRecord``), scoped like the
  utilisation page, filterable by month, business unit, initiative, pool, category and how
  they were matched; paginated.
"""

import datetime as dt

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from inventory.usage import selectors as utilisation
from inventory.usage.choices import CostCategory, CostMatch
from inventory.usage.models import CostRecord

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366


# --- gpu-utilisation -------------------------------------------------------------------------


class UtilisationQuerySerializer(serializers.Serializer):
    start = serializers.DateField(
        required=False, help_text="First day (default: 29 days before end)."
    )
    end = serializers.DateField(required=False, help_text="Last day, inclusive (default: today).")
    business_unit = serializers.IntegerField(required=False, min_value=1)
    pool = serializers.IntegerField(required=False, min_value=1)

    def validate(self, data):
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        if end < start:
            raise ValidationError({"end": "The end date cannot be before the start date."})
        if (end - start).days + 1 > MAX_DAYS:
            raise ValidationError({"start": f"Choose a period of at most {MAX_DAYS} days."})
        return {**data, "start": start, "end": end}


class UnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class PoolRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    gpu_type = serializers.CharField(source="gpu_type.name")


class UtilisationRowSerializer(serializers.Serializer):
    business_unit = UnitRefSerializer(
        allow_null=True, help_text="Null: usage of devices matched to no allocation."
    )
    pool = PoolRefSerializer(allow_null=True)
    samples = serializers.IntegerField()
    avg_activity = serializers.FloatField(
        allow_null=True, help_text="Sample-weighted average activity, 0–1."
    )
    p95_activity = serializers.FloatField(
        allow_null=True, help_text="Highest daily p95 activity in the period, 0–1."
    )
    gpu_hours_used = serializers.DecimalField(max_digits=18, decimal_places=4)
    allocated_gpu_hours = serializers.DecimalField(max_digits=18, decimal_places=4)
    status = serializers.ChoiceField(
        choices=[
            utilisation.STATUS_BELOW,
            utilisation.STATUS_IN_BAND,
            utilisation.STATUS_ABOVE,
            utilisation.STATUS_NO_DATA,
        ]
    )


UtilisationResponse = inline_serializer(
    "GPUUtilisationResponse",
    fields={
        "start": serializers.DateField(),
        "end": serializers.DateField(),
        "target_low": serializers.FloatField(help_text="A target, not a measurement (0–1)."),
        "target_high": serializers.FloatField(help_text="A target, not a measurement (0–1)."),
        "metric": serializers.CharField(),
        "results": UtilisationRowSerializer(many=True),
    },
)


@extend_schema(tags=["gpu"])
class GPUUtilisationViewSet(viewsets.ViewSet):
    """Activity per business unit and pool against the target band (read-only)."""

    @extend_schema(
        parameters=[UtilisationQuerySerializer],
        responses={200: UtilisationResponse},
    )
    def list(self, request):
        query = UtilisationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        rows = utilisation.utilisation_by_bu_and_pool(
            actor=request.user,
            start=params["start"],
            end=params["end"],
            business_unit=params.get("business_unit"),
            pool=params.get("pool"),
        )
        low, high = utilisation.target_band()
        return Response(
            {
                "start": params["start"],
                "end": params["end"],
                "target_low": low,
                "target_high": high,
                "metric": utilisation.ACTIVITY_METRIC,
                "results": UtilisationRowSerializer(rows, many=True).data,
            }
        )


# --- gpu-costs -------------------------------------------------------------------------------


class CostRecordFilterSet(django_filters.FilterSet):
    # Plain ids, not ModelChoiceFilters: their choices would list every unit and initiative.
    month = django_filters.DateFilter(help_text="First day of the month, e.g. 2025-06-01.")
    business_unit = django_filters.NumberFilter(field_name="business_unit_id")
    initiative = django_filters.NumberFilter(field_name="initiative_id")
    allocation = django_filters.NumberFilter(field_name="allocation_id")
    pool = django_filters.NumberFilter(field_name="pool_id")
    batch = django_filters.NumberFilter(field_name="batch_id")
    category = django_filters.ChoiceFilter(choices=CostCategory.choices)
    matched_by = django_filters.ChoiceFilter(choices=CostMatch.choices)

    class Meta:
        model = CostRecord
        fields = [
            "month",
            "business_unit",
            "initiative",
            "allocation",
            "pool",
            "batch",
            "category",
            "matched_by",
        ]


class CostRecordSerializer(serializers.ModelSerializer):
    initiative_reference = serializers.CharField(
        source="initiative.reference", read_only=True, default=None
    )
    business_unit_code = serializers.CharField(
        source="business_unit.code", read_only=True, default=None
    )
    pool_name = serializers.CharField(source="pool.name", read_only=True, default=None)

    class Meta:
        model = CostRecord
        fields = [
            "id",
            "batch",
            "line",
            "month",
            "provider",
            "charge_period_start",
            "charge_period_end",
            "category",
            "charge_category",
            "charge_class",
            "billed_cost",
            "effective_cost",
            "currency",
            "resource_id",
            "resource_type",
            "service_name",
            "sub_account_id",
            "region",
            "pricing_category",
            "sku_id",
            "instance_type",
            "gpu_count",
            "gpu_hours",
            "commitment_id",
            "tags",
            "matched_by",
            "allocation",
            "initiative",
            "initiative_reference",
            "business_unit",
            "business_unit_code",
            "pool",
            "pool_name",
        ]
        read_only_fields = fields


@extend_schema(tags=["gpu"])
class GPUCostViewSet(viewsets.ReadOnlyModelViewSet):
    """Imported FOCUS cost lines, classified and matched (read-only). ``effective_cost`` is
    what chargeback uses, ``billed_cost`` reconciles the invoice."""

    serializer_class = CostRecordSerializer
    filterset_class = CostRecordFilterSet

    def get_queryset(self):
        return utilisation.cost_record_list(user=self.request.user)


def register(router) -> None:
    """Add this module's viewsets to the API router."""
    router.register("gpu-utilisation", GPUUtilisationViewSet, basename="gpu-utilisation")
    router.register("gpu-costs", GPUCostViewSet, basename="gpu-cost")
