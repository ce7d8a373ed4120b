import datetime
from collections.abc import Mapping

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.api.customfields import CustomFieldsField
from core.api.views import ServiceBackedViewSet
from core.periods import dates_from_period, parse_period_bound
from inventory.gpu import selectors, services
from inventory.gpu.allocation_import import MAX_UPLOAD_BYTES as ALLOCATION_IMPORT_MAX_BYTES
from inventory.gpu.allocation_import import allocation_import
from inventory.gpu.filtersets import GPUAllocationFilterSet, GPUPoolFilterSet, GPUTypeFilterSet
from inventory.gpu.models import GPUAllocation, GPUPool, GPUType
from inventory.gpu.services import ALLOCATION_FIELDS, GPU_TYPE_FIELDS, POOL_FIELDS


class GPUTypeSerializer(serializers.ModelSerializer):
    monitoring_names = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False
    )
    mig_profiles = serializers.ListField(child=serializers.CharField(max_length=20), required=False)

    class Meta:
        model = GPUType
        fields = ["id", *GPU_TYPE_FIELDS]
        read_only_fields = ["id"]
        # The service reports a duplicate name as a field error (one message, one place).
        extra_kwargs = {"name": {"validators": []}}


class GPUPoolSerializer(serializers.ModelSerializer):
    allocated_gpus = serializers.DecimalField(
        max_digits=12, decimal_places=3, read_only=True, default=None
    )

    class Meta:
        model = GPUPool
        fields = ["id", *POOL_FIELDS, "allocated_gpus", "created_at"]
        read_only_fields = ["id", "created_at"]


class PeriodBoundField(serializers.DateTimeField):
    """An ISO 8601 date-time (UTC unless it carries an offset) or a date, meaning whole days:
    a start date is 00:00 UTC of that day, an end date the end of that (last) day held."""

    def __init__(self, *, end: bool, **kwargs):
        self.end = end
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        if isinstance(value, str) and len(value.strip()) == len("YYYY-MM-DD"):
            try:
                return parse_period_bound(value, end=self.end)
            except ValueError:
                pass  # the date-time parser words the error
        return super().to_internal_value(value)


class GPUAllocationSerializer(serializers.ModelSerializer):
    """Write the period as ``starts_at``/``ends_at`` (instants; ``ends_at`` exclusive) or, as
    before, ``starts_on``/``ends_on`` (whole days, ``ends_on`` inclusive); both are returned."""

    custom_fields = CustomFieldsField(entity="gpu_allocation")

    is_orphaned = serializers.BooleanField(read_only=True)
    starts_at = PeriodBoundField(
        end=False,
        required=False,
        default_timezone=datetime.UTC,
        help_text="When the GPUs are taken (UTC unless offset). A date means 00:00 UTC.",
    )
    ends_at = PeriodBoundField(
        end=True,
        required=False,
        allow_null=True,
        default_timezone=datetime.UTC,
        help_text="Exclusive: when the GPUs are given back; null = open-ended. A date means "
        "the end of that day.",
    )

    class Meta:
        model = GPUAllocation
        fields = [
            "id",
            *ALLOCATION_FIELDS,
            "requested_by",
            "approved_by",
            "is_orphaned",
            "created_at",
        ]
        read_only_fields = ["id", "requested_by", "approved_by", "created_at"]
        extra_kwargs = {
            "starts_on": {
                "help_text": "UTC day of starts_at; may be left out when starts_at is given."
            },
            "ends_on": {"help_text": "UTC day of the last instant held (inclusive)."},
        }

    def to_internal_value(self, data):
        # A start given as an instant dates itself; the schema keeps starts_on required, as
        # it was (the OpenAPI schema only grows).
        if isinstance(data, Mapping) and "starts_on" not in data and data.get("starts_at"):
            try:
                starts_at = self.fields["starts_at"].run_validation(data["starts_at"])
            except serializers.ValidationError:
                pass  # reported on starts_at
            else:
                data = {**data, "starts_on": dates_from_period(starts_at, None)[0]}
        return super().to_internal_value(data)


@extend_schema(tags=["gpu"])
class GPUTypeViewSet(ServiceBackedViewSet):
    """The GPU catalogue: memory (optional), reference price (guidance, with source and date),
    the names monitoring reports, MIG profiles. Platform admins create and edit entries."""

    serializer_class = GPUTypeSerializer
    filterset_class = GPUTypeFilterSet
    selector = selectors.gpu_type_list
    create_service = services.gpu_type_create
    update_service = services.gpu_type_update
    update_keyword = "gpu_type"


@extend_schema(tags=["gpu"])
class GPUPoolViewSet(ServiceBackedViewSet):
    serializer_class = GPUPoolSerializer
    filterset_class = GPUPoolFilterSet
    selector = selectors.pool_list
    create_service = services.pool_create
    update_service = services.pool_update
    update_keyword = "pool"


class AllocationImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV: pool, gpu_count, business_unit, purpose, starts_on, and optionally "
        "initiative, ends_on, notes. starts_on/ends_on: a date (whole days) or an ISO 8601 "
        "date-time (ends_on exclusive)."
    )
    dry_run = serializers.BooleanField(
        default=False, help_text="Check every row and write nothing."
    )

    def validate_file(self, upload):
        if upload.size > ALLOCATION_IMPORT_MAX_BYTES:
            raise serializers.ValidationError(
                f"The file is {upload.size / 1e6:.1f} MB; the limit is "
                f"{ALLOCATION_IMPORT_MAX_BYTES / 1e6:g} MB."
            )
        return upload


IMPORT_RESULT = inline_serializer(
    "AllocationImportResult",
    fields={
        "dry_run": serializers.BooleanField(),
        "rows": serializers.IntegerField(),
        "created": serializers.IntegerField(),
        "gpu_total": serializers.DecimalField(max_digits=14, decimal_places=3),
        "ids": serializers.ListField(child=serializers.IntegerField()),
        "errors": inline_serializer(
            "AllocationImportRowError",
            fields={
                "row": serializers.IntegerField(allow_null=True),
                "field": serializers.CharField(),
                "message": serializers.CharField(),
            },
            many=True,
        ),
    },
)


@extend_schema(tags=["gpu"])
class GPUAllocationViewSet(ServiceBackedViewSet):
    serializer_class = GPUAllocationSerializer
    filterset_class = GPUAllocationFilterSet
    selector = selectors.allocation_list
    create_service = services.allocation_create
    update_service = services.allocation_update
    update_keyword = "allocation"

    @extend_schema(
        summary="Import many allocations from a CSV, all or nothing",
        description="Every row is checked as a single allocation would be (unit permission, "
        "fields, pool capacity in file order). Any error: 400 with every row error (row = "
        "file line, header 1) and nothing written. A dry run answers 200 with what would "
        "be created; a real run creates every row in one transaction (201).",
        request={"multipart/form-data": AllocationImportSerializer},
        responses={
            200: OpenApiResponse(IMPORT_RESULT, description="Dry run: every row valid."),
            201: OpenApiResponse(IMPORT_RESULT, description="Imported."),
            400: OpenApiResponse(IMPORT_RESULT, description="Row errors; nothing written."),
            403: OpenApiResponse(description="Only platform engineers allocate GPUs."),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        serializer_class=AllocationImportSerializer,
    )
    def bulk_import(self, request):
        payload = AllocationImportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = allocation_import(
            actor=request.user,
            content=payload.validated_data["file"].read(),
            dry_run=payload.validated_data["dry_run"],
        )
        body = {
            "dry_run": result.dry_run,
            "rows": result.rows,
            "created": len(result.created),
            "gpu_total": f"{result.gpu_total:.3f}",
            "ids": [allocation.pk for allocation in result.created if allocation.pk],
            "errors": [
                {"row": error.row, "field": error.field, "message": error.message}
                for error in result.errors
            ],
        }
        if not result.ok:
            code = status.HTTP_400_BAD_REQUEST
        elif result.dry_run:
            code = status.HTTP_200_OK
        else:
            code = status.HTTP_201_CREATED
        return Response(body, status=code)
