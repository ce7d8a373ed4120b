"""API for GPU FinOps ingest: the import history and uploads (multipart ``file`` + ``kind``)
through the one ingest engine, ``inventory.usage.services.batches.ingest_file``."""

from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from inventory.usage.choices import IngestKind
from inventory.usage.models import IngestBatch
from inventory.usage.parsers import ParseError
from inventory.usage.services import batches as ingest_services
from inventory.usage.services.batches import AUTO


class IngestBatchSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    already_imported = serializers.SerializerMethodField(
        help_text="True when this upload was a file imported before: nothing was written and "
        "this is the earlier batch."
    )

    class Meta:
        model = IngestBatch
        fields = [
            "id",
            "kind",
            "filename",
            "sha256",
            "size_bytes",
            "status",
            "rows_read",
            "rows_written",
            "summary",
            "uploaded_by",
            "created_at",
            "already_imported",
        ]
        read_only_fields = fields

    def get_already_imported(self, batch) -> bool:
        return bool(getattr(batch, "already_imported", False))


class IngestUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The usage or cost file (at most 50 MB).")
    kind = serializers.ChoiceField(
        choices=[(AUTO, "Detect from the file"), *IngestKind.choices],
        default=AUTO,
        help_text="The file's format; `auto` detects it from the name and first line.",
    )
    scraped_at = serializers.DateTimeField(
        required=False,
        help_text="dcgm-exporter text only: the time of samples without a timestamp "
        "(default: now).",
    )

    time_origin = serializers.DateTimeField(
        required=False,
        help_text="Kubernetes pods only: the time that times written in seconds count from "
        "(default: the Unix epoch).",
    )
    observed_at = serializers.DateTimeField(
        required=False,
        help_text="Kubernetes pods only: running pods count up to this time (default: the "
        "latest time in the file).",
    )

    def validate_file(self, upload):
        limit = ingest_services.MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise serializers.ValidationError(
                f"The file is {upload.size / 1e6:.1f} MB; the limit is {limit / 1e6:g} MB."
            )
        return upload


LINE_ERRORS = inline_serializer(
    "IngestLineErrors",
    fields={
        "errors": inline_serializer(
            "IngestLineError",
            fields={
                "line": serializers.IntegerField(allow_null=True),
                "message": serializers.CharField(),
            },
            many=True,
        )
    },
)


@extend_schema(tags=["gpu"])
@extend_schema_view(
    list=extend_schema(summary="Imported usage and cost files, newest first"),
    retrieve=extend_schema(summary="One import with its summary"),
    create=extend_schema(
        summary="Import a usage or cost file",
        description="Parses the whole file first: a malformed file is refused with every "
        "line error and nothing is written. A file imported before (same kind and SHA-256) "
        "returns the earlier batch with 200 and writes nothing.",
        request={"multipart/form-data": IngestUploadSerializer},
        responses={
            201: IngestBatchSerializer,
            200: OpenApiResponse(IngestBatchSerializer, description="Already imported."),
            400: OpenApiResponse(LINE_ERRORS, description="Line errors, or field errors."),
            401: OpenApiResponse(description="Not signed in (token or session)."),
            403: OpenApiResponse(description="Only the platform team imports files."),
        },
    ),
)
class IngestBatchViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = IngestBatchSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return ingest_services.batch_list(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return IngestUploadSerializer
        return IngestBatchSerializer

    def create(self, request, *args, **kwargs):
        payload = IngestUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            batch = ingest_services.ingest_upload(
                actor=request.user,
                upload=payload.validated_data["file"],
                kind=payload.validated_data["kind"],
                scraped_at=payload.validated_data.get("scraped_at"),
                time_origin=payload.validated_data.get("time_origin"),
                observed_at=payload.validated_data.get("observed_at"),
            )
        except ParseError as exc:
            return Response(
                {"errors": [{"line": line, "message": message} for line, message in exc.errors]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        code = status.HTTP_200_OK if batch.already_imported else status.HTTP_201_CREATED
        return Response(IngestBatchSerializer(batch, context={"request": request}).data, code)


def register(router) -> None:
    """Add this module's viewsets to the API router."""
    router.register("gpu-ingest", IngestBatchViewSet, basename="gpu-ingest")
