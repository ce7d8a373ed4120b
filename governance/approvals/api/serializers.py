from rest_framework import serializers

from governance.approvals.choices import Outcome
from governance.approvals.models import ApprovalRequest, Decision, Escalation
from governance.risk.choices import Gate


class StepSerializer(serializers.Serializer):
    """One step of the policy version a request was submitted under."""

    name = serializers.CharField()
    role = serializers.CharField()
    approvals = serializers.IntegerField()
    sla_hours = serializers.IntegerField()
    escalation_role = serializers.CharField()
    fast_path = serializers.BooleanField()


class ApprovalRequestSerializer(serializers.ModelSerializer):
    initiative_reference = serializers.CharField(source="initiative.reference", read_only=True)
    initiative_title = serializers.CharField(source="initiative.title", read_only=True)
    business_unit_code = serializers.CharField(
        source="initiative.business_unit.code", read_only=True
    )
    # A plain integer (1–4), as in the risk API, rather than a second Tier enum in the schema.
    tier = serializers.IntegerField(read_only=True)
    policy_version = serializers.SerializerMethodField()
    steps = StepSerializer(many=True, read_only=True)
    current_step_name = serializers.SerializerMethodField()
    current_step_role = serializers.SerializerMethodField()
    is_overdue = serializers.SerializerMethodField()
    submitted_by_username = serializers.CharField(source="submitted_by.username", read_only=True)
    decision_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ApprovalRequest
        fields = [
            "id",
            "initiative",
            "initiative_reference",
            "initiative_title",
            "business_unit_code",
            "gate",
            "tier",
            "status",
            "round",
            "policy_version",
            "steps",
            "current_step",
            "current_step_name",
            "current_step_role",
            "step_due_at",
            "is_overdue",
            "escalation_level",
            "fast_tracked",
            "submitted_by_username",
            "submitted_at",
            "decided_at",
            "comment",
            "decision_count",
        ]
        read_only_fields = fields

    def get_policy_version(self, request) -> int:
        return request.policy_snapshot.get("version")

    def get_current_step_name(self, request) -> str | None:
        return request.step["name"] if request.is_open and request.step else None

    def get_current_step_role(self, request) -> str | None:
        return request.step["role"] if request.is_open and request.step else None

    def get_is_overdue(self, request) -> bool:
        return request.is_overdue()


class DecisionSerializer(serializers.ModelSerializer):
    approver_username = serializers.CharField(source="approver.username", read_only=True)
    on_behalf_of_username = serializers.CharField(
        source="on_behalf_of.username", read_only=True, default=None
    )

    class Meta:
        model = Decision
        fields = [
            "round",
            "step_index",
            "approver_username",
            "on_behalf_of_username",
            "outcome",
            "comment",
            "created_at",
        ]
        read_only_fields = fields


class EscalationSerializer(serializers.ModelSerializer):
    raised_by_username = serializers.CharField(
        source="raised_by.username", read_only=True, default=None
    )

    class Meta:
        model = Escalation
        fields = [
            "round",
            "step_index",
            "level",
            "to_role",
            "reason",
            "note",
            "raised_by_username",
            "created_at",
        ]
        read_only_fields = fields


class ApprovalRequestDetailSerializer(ApprovalRequestSerializer):
    """A request with its decisions and escalations of every round, oldest first."""

    decisions = DecisionSerializer(many=True, read_only=True)
    escalations = EscalationSerializer(many=True, read_only=True)

    class Meta(ApprovalRequestSerializer.Meta):
        fields = [*ApprovalRequestSerializer.Meta.fields, "decisions", "escalations"]
        read_only_fields = fields


class SubmitSerializer(serializers.Serializer):
    initiative = serializers.IntegerField(help_text="Id of the initiative to submit.")
    gate = serializers.ChoiceField(choices=Gate.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class DecideSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required to reject or request changes.",
    )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why (at least 10 characters to escalate a disagreement).",
    )


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")
