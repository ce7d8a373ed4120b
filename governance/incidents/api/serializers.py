"""Incident API shapes. Writes are validated by the services; these only shape input."""

from rest_framework import serializers

from core.api.customfields import CustomFieldsField
from governance.incidents.choices import IncidentStatus
from governance.incidents.models import CorrectiveAction, Incident, IncidentReport


class IncidentReportSerializer(serializers.ModelSerializer):
    regime = serializers.SlugRelatedField(slug_field="code", read_only=True)
    state = serializers.SerializerMethodField()

    class Meta:
        model = IncidentReport
        fields = [
            "id",
            "regime",
            "kind",
            "due_at",
            "basis",
            "state",
            "submitted_at",
            "submitted_to",
            "submitted_reference",
        ]
        read_only_fields = fields

    def get_state(self, report) -> str:
        return report.state()


class CorrectiveActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CorrectiveAction
        fields = ["id", "title", "owner", "due_on", "status", "waiver_reason", "completed_at"]
        read_only_fields = ["id", "status", "waiver_reason", "completed_at"]


class IncidentSerializer(serializers.ModelSerializer):
    """An incident; ``initiatives`` must be ones the caller can see."""

    is_serious = serializers.BooleanField(read_only=True)
    flags_reassessment = serializers.BooleanField(read_only=True)
    custom_fields = CustomFieldsField(entity="incident")

    class Meta:
        model = Incident
        fields = [
            "id",
            "reference",
            "title",
            "description",
            "category",
            "severity",
            "status",
            "is_serious",
            "flags_reassessment",
            "death_suspected",
            "widespread_infringement",
            "personal_data_breach",
            "initiatives",
            "model_versions",
            "business_units",
            "detected_at",
            "became_aware_at",
            "causal_link_at",
            "triaged_at",
            "closed_at",
            "immediate_actions",
            "reporter",
            "owner",
            "custom_fields",
        ]
        read_only_fields = ["id", "reference", "status", "triaged_at", "closed_at", "reporter"]
        extra_kwargs = {"initiatives": {"required": True}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "initiatives" in self.fields:
            from portfolio.initiatives.selectors import initiative_list

            self.fields["initiatives"].child_relation.queryset = initiative_list(user=request.user)


class IncidentDetailSerializer(IncidentSerializer):
    reports = IncidentReportSerializer(many=True, read_only=True)
    actions = CorrectiveActionSerializer(many=True, read_only=True)

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "reports", "actions"]


class IncidentTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class IncidentReportRecordSerializer(serializers.Serializer):
    report = serializers.IntegerField()
    submitted_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    submitted_to = serializers.CharField(required=False, allow_blank=True, default="")
    reference = serializers.CharField(required=False, allow_blank=True, default="")


class ActionWaiveSerializer(serializers.Serializer):
    action = serializers.IntegerField()
    reason = serializers.CharField()
