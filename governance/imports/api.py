"""API for the bulk inventory import: the import history and uploads (multipart ``file`` +
``preset`` + ``dry_run``) through the one engine, ``governance.imports.services.import_file``
(the same as the web pages and ``manage.py import_inventory``)."""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from governance.imports import services as import_services
from governance.imports.choices import ImportStatus
from governance.imports.forms import MAX_UPLOAD_BYTES
from governance.imports.models import ImportJob


class ImportJobSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    status = serializers.CharField(
        read_only=True,
        help_text="One of: "
        + ", ".join(f"`{value}` ({label})" for value, label in ImportStatus.choices),
    )
    progress_percent = serializers.IntegerField(read_only=True)
    preview = serializers.JSONField(
        read_only=True,
        help_text="The dry run: counts per action (create, update, skip, reject), the rows, "
        "every rejected row with its line and reason, and warnings.",
    )
    result = serializers.JSONField(
        read_only=True,
        help_text="After the import: counts and the created and updated initiative ids.",
    )

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "filename",
            "sha256",
            "size_bytes",
            "preset",
            "mapping",
            "options",
            "status",
            "total_rows",
            "processed_rows",
            "progress_percent",
            "preview",
            "result",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The inventory: CSV, XLSX or XLS, at most 20 MB.")
    preset = serializers.CharField(
        default="keel",
        max_length=100,
        help_text="`keel` (Keel's export format), `us-federal-2024` (OMB 2024 AI use-case "
        "inventory) or the name of a saved mapping.",
    )
    dry_run = serializers.BooleanField(
        default=False,
        help_text="Only build the preview: what would be created, updated, skipped and "
        "rejected; nothing is written.",
    )
    create_units = serializers.BooleanField(
        default=False,
        help_text="Create business units named in the file that do not exist yet (otherwise "
        "their rows are rejected).",
    )
    id_column = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=255,
        help_text="Header of the column holding a stable external id (default: the preset's rule).",
    )
    mapping = serializers.JSONField(
        required=False,
        binary=True,
        help_text='JSON object: column header → Keel field ("" ignores the column); '
        "replaces the preset's suggested mapping for the headers it names.",
    )

    def validate_file(self, upload):
        if upload.size > MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(
                f"The file is {upload.size / 1e6:.1f} MB; the limit is "
                f"{MAX_UPLOAD_BYTES / 1e6:g} MB."
            )
        return upload

    def validate_mapping(self, mapping):
        if not isinstance(mapping, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in mapping.items()
        ):
            raise serializers.ValidationError(
                "Give an object of column header → Keel field name (strings)."
            )
        return mapping

    def options(self) -> dict:
        data = self.validated_data
        options = {"create_units": data["create_units"]}
        if data.get("id_column"):
            options["id_column"] = data["id_column"]
        return options


IMPORT_COUNTS = inline_serializer(
    "ImportCounts",
    fields={
        "create": serializers.IntegerField(),
        "update": serializers.IntegerField(),
        "skip": serializers.IntegerField(),
        "reject": serializers.IntegerField(),
    },
)
IMPORT_OUTCOME = inline_serializer(
    "ImportOutcome",
    fields={
        "job": serializers.IntegerField(help_text="The import job's id."),
        "preview": inline_serializer(
            "ImportPreview",
            fields={
                "counts": IMPORT_COUNTS,
                "rows": inline_serializer(
                    "ImportPreviewRow",
                    fields={
                        "line": serializers.IntegerField(),
                        "action": serializers.CharField(),
                        "reference": serializers.CharField(required=False),
                        "title": serializers.CharField(required=False),
                        "reason": serializers.CharField(required=False),
                    },
                    many=True,
                ),
                "rejected": inline_serializer(
                    "ImportRejectedRow",
                    fields={
                        "line": serializers.IntegerField(),
                        "reason": serializers.CharField(),
                    },
                    many=True,
                ),
                "warnings": inline_serializer(
                    "ImportWarning",
                    fields={
                        "line": serializers.IntegerField(allow_null=True),
                        "message": serializers.CharField(),
                    },
                    many=True,
                ),
            },
        ),
        "result": serializers.JSONField(
            allow_null=True,
            help_text="Null for a dry run; otherwise counts and the created and updated "
            "initiative ids.",
        ),
    },
)


@extend_schema(tags=["imports"])
@extend_schema_view(
    list=extend_schema(summary="Inventory imports, newest first"),
    retrieve=extend_schema(summary="One inventory import with its dry run and result"),
    create=extend_schema(
        summary="Import an inventory file (or dry-run it)",
        description="Reads the file, maps its columns (the preset's suggestion, overridden by "
        "`mapping`) and builds the plan. With `dry_run` nothing is written and `result` is "
        "null; otherwise the valid rows are imported in one transaction (rejected rows are "
        "left out and reported with their line and reason).",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            201: IMPORT_OUTCOME,
            400: OpenApiResponse(description="An unreadable or empty file, or field errors."),
            401: OpenApiResponse(description="Not signed in (token or session)."),
            403: OpenApiResponse(description="You may not import the inventory."),
        },
    ),
)
class ImportJobViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ImportJobSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return ImportJob.objects.none()
        return import_services.import_jobs_list(actor=self.request.user)

    def get_serializer_class(self):
        if self.action == "create":
            return ImportUploadSerializer
        return ImportJobSerializer

    def create(self, request, *args, **kwargs):
        if not import_services.can_import(request.user):
            raise PermissionDenied("Only CoE admins, administrators and BU leads can import.")
        payload = ImportUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        upload = data["file"]
        outcome = import_services.import_file(
            actor=request.user,
            filename=upload.name,
            content=upload.read(),
            preset=data["preset"],
            dry_run=data["dry_run"],
            options=payload.options(),
            mapping=data.get("mapping"),
        )
        return Response(outcome, status=status.HTTP_201_CREATED)


def register(router) -> None:
    """Add this module's viewsets to the API router."""
    router.register("imports", ImportJobViewSet, basename="import-job")
