from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.customfields import CustomFieldsField
from core.permissions import reads_whole_organisation
from governance.approvals.models import ApprovalRequest
from inventory.registry.choices import ModelStatus, MonitoringStatus
from inventory.registry.models import (
    AIModel,
    EvaluationMetric,
    ModelVersion,
    MonitoringReport,
    Vendor,
    VendorProduct,
)
from inventory.registry.selectors import (
    MONITORING_HISTORY_LIMIT,
    SHARED_MODEL_UNIT_COUNT,
    scope_models,
)
from inventory.registry.services import (
    MODEL_CARD_FIELDS,
    MODEL_FIELDS,
    VENDOR_FIELDS,
    VENDOR_PRODUCT_FIELDS,
)
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.selectors import initiative_list


class AIModelSerializer(serializers.ModelSerializer):
    custom_fields = CustomFieldsField(entity="ai_model")
    initiatives = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=Initiative.objects.all()
    )

    consumer_business_units = serializers.SerializerMethodField(
        help_text="Ids of the business units whose initiatives use the model (all of them, "
        "also those the caller cannot see: the model's people need to know who depends on it)."
    )
    is_shared = serializers.SerializerMethodField(
        help_text="True when initiatives of several business units use the model."
    )

    class Meta:
        model = AIModel
        fields = [
            "id",
            *MODEL_FIELDS,
            "initiatives",
            "effective_tier",
            "consumer_business_units",
            "is_shared",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "effective_tier", "created_at", "updated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "initiatives" in self.fields:
            # Only initiatives the caller can see may be linked (and named in errors).
            self.fields["initiatives"].child_relation.queryset = self._visible_initiatives()

    def _visible_initiatives(self):

        return initiative_list(user=self.context["request"].user)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and not reads_whole_organisation(request.user):
            # One query per response: a list reuses this (child) serializer for every row.
            if not hasattr(self, "_visible_ids"):
                self._visible_ids = set(self._visible_initiatives().values_list("pk", flat=True))
            data["initiatives"] = [pk for pk in data["initiatives"] if pk in self._visible_ids]
        return data

    def get_consumer_business_units(self, model) -> list[int]:
        # From the prefetched initiatives of a list: no query per row.
        return sorted({initiative.business_unit_id for initiative in model.initiatives.all()})

    def get_is_shared(self, model) -> bool:
        return len(self.get_consumer_business_units(model)) >= SHARED_MODEL_UNIT_COUNT

    def validate_initiatives(self, chosen):
        """Keep links the caller cannot see: the service replaces the whole set."""
        if self.instance is None:
            return chosen
        hidden = self.instance.initiatives.exclude(pk__in=self._visible_initiatives().values("pk"))
        return list(chosen) + list(hidden)


class EvaluationMetricSerializer(serializers.ModelSerializer):
    measured_on = serializers.DateField(required=False, help_text="Defaults to today.")

    class Meta:
        model = EvaluationMetric
        fields = ["id", "name", "value", "dataset", "measured_on", "created_at"]
        read_only_fields = ["id", "created_at"]


class MonitoringReportSerializer(serializers.ModelSerializer):
    reported_by_username = serializers.CharField(
        source="reported_by.username", read_only=True, default=None
    )

    class Meta:
        model = MonitoringReport
        fields = [
            "id",
            "status",
            "metrics",
            "source",
            "note",
            "reported_by",
            "reported_by_username",
            "reported_at",
        ]
        read_only_fields = fields


class ModelVersionSerializer(serializers.ModelSerializer):
    """A version and its model card. The status is set on create only (never production);
    afterwards it changes through ``POST …/transition/`` or the model release gate."""

    model = serializers.PrimaryKeyRelatedField(queryset=AIModel.objects.none())
    model_name = serializers.CharField(source="model.name", read_only=True)
    model_effective_tier = serializers.IntegerField(
        source="model.effective_tier", read_only=True, allow_null=True
    )
    status = serializers.ChoiceField(
        choices=ModelStatus.choices,
        required=False,
        help_text="Initial status (development by default). Refused in an edit: use the "
        "transition action; production only through POST …/release/.",
    )
    missing_model_card_fields = serializers.SerializerMethodField()
    custom_fields = CustomFieldsField(entity="model_version")

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "model",
            "model_name",
            "model_effective_tier",
            "version",
            "status",
            "artefact_uri",
            "released_on",
            "last_validated_on",
            "next_review_due",
            "monitoring_status",
            "monitoring_updated_at",
            "last_metrics",
            *MODEL_CARD_FIELDS,
            "custom_fields",
            "missing_model_card_fields",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "next_review_due",
            "monitoring_status",
            "monitoring_updated_at",
            "last_metrics",
            "created_at",
        ]
        # The service's full_clean checks (model, version) uniqueness.
        validators = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "model" in self.fields:
            # Versions may be added only to models the caller can see.
            self.fields["model"].queryset = scope_models(AIModel.objects.all(), request.user)

    def get_missing_model_card_fields(self, version) -> list[str]:
        return version.missing_model_card_fields()

    def validate(self, attrs):
        if self.instance is not None:
            errors = {}
            if "status" in self.initial_data:
                errors["status"] = "Change the status with POST …/transition/, not an edit."
            if "model" in attrs and attrs["model"].pk != self.instance.model_id:
                errors["model"] = "A version stays with its model."
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class ModelVersionDetailSerializer(ModelVersionSerializer):
    metrics = EvaluationMetricSerializer(many=True, read_only=True)
    monitoring_reports = MonitoringReportSerializer(
        source="recent_monitoring_reports",
        many=True,
        read_only=True,
        help_text=f"Monitoring history, newest first (the latest {MONITORING_HISTORY_LIMIT}).",
    )

    class Meta(ModelVersionSerializer.Meta):
        fields = [*ModelVersionSerializer.Meta.fields, "metrics", "monitoring_reports"]


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=ModelStatus.choices,
        help_text="The new status; production is reached only through POST …/release/.",
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReleaseCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ModelReleaseApprovalSerializer(serializers.ModelSerializer):
    """The ``model_release`` approval request a release submitted (see /approval-requests/)."""

    tier = serializers.IntegerField(read_only=True)

    class Meta:
        model = ApprovalRequest
        fields = ["id", "status", "gate", "initiative", "tier", "fast_tracked", "submitted_at"]
        read_only_fields = fields


class ValidationRecordSerializer(serializers.Serializer):
    validated_on = serializers.DateField(help_text="When the (re)validation happened.")
    note = serializers.CharField(required=False, allow_blank=True, default="")


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "number"},
        "example": {"drift_score": 0.12, "auc": 0.91},
    }
)
class MetricsField(serializers.Field):
    """{metric name: number}, passed as sent: ``clean_monitoring_metrics`` judges the values
    (strings and booleans are refused, not coerced)."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("Send an object of metric names and numbers.")
        return data

    def to_representation(self, value):
        return value


class MonitoringInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=MonitoringStatus.choices)
    metrics = MetricsField(
        required=False,
        default=dict,
        help_text="Metric values by name: finite numbers of magnitude at most 1e9; "
        "drift_score and names ending in _share lie between 0 and 1.",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class VendorProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = VendorProduct
        fields = ["id", "vendor", *VENDOR_PRODUCT_FIELDS, "created_at"]
        read_only_fields = ["id", "vendor", "created_at"]
        # The service's full_clean checks (vendor, name) uniqueness.
        validators = []


class VendorSerializer(serializers.ModelSerializer):
    custom_fields = CustomFieldsField(entity="vendor")
    products = VendorProductSerializer(many=True, read_only=True)
    product_count = serializers.IntegerField(read_only=True, default=None)
    model_count = serializers.IntegerField(
        read_only=True, default=None, help_text="Models using the vendor that the caller sees."
    )

    class Meta:
        model = Vendor
        fields = [
            "id",
            *VENDOR_FIELDS,
            "products",
            "product_count",
            "model_count",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
