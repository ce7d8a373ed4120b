from pathlib import PurePosixPath

from rest_framework import serializers

from governance.risk.choices import Gate, Tier
from governance.risk.models import Control, ControlRequirement, ControlResult, RiskAssessment
from portfolio.initiatives.choices import Stage


class RiskAssessmentSerializer(serializers.ModelSerializer):
    initiative_reference = serializers.CharField(source="initiative.reference", read_only=True)
    questionnaire_version = serializers.IntegerField(source="questionnaire.version", read_only=True)
    # Plain integers (1–4): the Tier choices would otherwise appear as several
    # differently named enums in the OpenAPI schema.
    computed_tier = serializers.IntegerField(read_only=True, allow_null=True)
    override_tier = serializers.IntegerField(read_only=True, allow_null=True)
    effective_tier = serializers.IntegerField(read_only=True, allow_null=True)
    assessed_by_username = serializers.CharField(
        source="assessed_by.username", read_only=True, default=None
    )
    overridden_by_username = serializers.CharField(
        source="overridden_by.username", read_only=True, default=None
    )
    rationale = serializers.ListField(child=serializers.CharField(), read_only=True)
    answers = serializers.DictField(read_only=True)
    inherent_score = serializers.IntegerField(
        source="score", read_only=True, help_text="The questionnaire score (as ``score``)."
    )
    residual_score = serializers.SerializerMethodField(
        help_text="The current assessment's score after the required controls that pass; "
        "null for past assessments (controls are evaluated against the current one)."
    )

    class Meta:
        model = RiskAssessment
        fields = [
            "id",
            "initiative",
            "initiative_reference",
            "questionnaire_version",
            "status",
            "is_current",
            "answers",
            "computed_tier",
            "score",
            "inherent_score",
            "residual_score",
            "rationale",
            "override_tier",
            "override_justification",
            "effective_tier",
            "assessed_by_username",
            "completed_at",
            "overridden_by_username",
            "overridden_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_residual_score(self, assessment) -> int | None:
        if not assessment.is_current:
            return None
        return getattr(assessment, "residual_score", None)


class AssessmentStartSerializer(serializers.Serializer):
    initiative = serializers.IntegerField(help_text="Id of the initiative to assess.")


class AnswersSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Question key → answer: a choice key, a list of choice keys (multiple "
        'choice), "yes"/"no", or a number. An empty value clears the answer.',
    )

    def validate_answers(self, answers):
        """Only answer shapes the questionnaire knows; the service checks the values."""
        errors = {}
        for key, value in answers.items():
            if isinstance(value, list):
                if not all(isinstance(item, str) for item in value):
                    errors[key] = "A multiple-choice answer is a list of choice keys."
            elif value is not None and not isinstance(value, str | int | float):
                errors[key] = "Answer with a choice key, a list of choice keys or a number."
        if errors:
            raise serializers.ValidationError(errors)
        return answers


class TierResultSerializer(serializers.Serializer):
    """The live tier of a draft after its answers were saved."""

    tier = serializers.IntegerField()
    label = serializers.CharField()
    score = serializers.IntegerField()
    rationale = serializers.ListField(child=serializers.CharField())
    unanswered = serializers.ListField(
        child=serializers.CharField(), help_text="Keys of the questions still to answer."
    )
    complete = serializers.BooleanField()


class OverrideSerializer(serializers.Serializer):
    tier = serializers.IntegerField(
        min_value=Tier.MINIMAL,
        max_value=Tier.UNACCEPTABLE,
        allow_null=True,
        help_text="1–4, or null to remove the override.",
    )
    justification = serializers.CharField(allow_blank=True, help_text="At least 20 characters.")


class ControlRequirementSerializer(serializers.ModelSerializer):
    class Meta:
        model = ControlRequirement
        fields = ["gate", "minimum_tier"]


class ControlSerializer(serializers.ModelSerializer):
    requirements = ControlRequirementSerializer(many=True, read_only=True)

    class Meta:
        model = Control
        fields = [
            "id",
            "code",
            "title",
            "description",
            "kind",
            "applies_when",
            "eu_ai_act_article",
            "nist_function",
            "iso_42001_clause",
            "is_active",
            "requirements",
        ]
        read_only_fields = fields


class ControlResultSerializer(serializers.ModelSerializer):
    initiative_reference = serializers.CharField(source="initiative.reference", read_only=True)
    control = serializers.CharField(source="control.code", read_only=True)
    control_title = serializers.CharField(source="control.title", read_only=True)
    evidence_file_name = serializers.SerializerMethodField()
    reviewer_username = serializers.CharField(
        source="reviewer.username", read_only=True, default=None
    )

    class Meta:
        model = ControlResult
        fields = [
            "id",
            "initiative",
            "initiative_reference",
            "control",
            "control_title",
            "status",
            "detail",
            "evidence_file_name",
            "evidence_link",
            "reviewer_username",
            "reviewed_at",
            "waiver_expires_on",
            "evaluated_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_evidence_file_name(self, result) -> str | None:
        return PurePosixPath(result.evidence_file.name).name if result.evidence_file else None


class RiskRegisterSerializer(serializers.Serializer):
    """A row of the risk register: an initiative with its tiers and control counts."""

    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    business_unit_code = serializers.CharField(source="business_unit.code")
    stage = serializers.ChoiceField(choices=Stage.choices)
    computed_tier = serializers.IntegerField(allow_null=True)
    override_tier = serializers.IntegerField(allow_null=True)
    effective_tier = serializers.IntegerField(allow_null=True)
    assessed_at = serializers.DateTimeField(allow_null=True)
    inherent_score = serializers.IntegerField(
        allow_null=True, help_text="The current assessment's questionnaire score."
    )
    residual_score = serializers.IntegerField(
        allow_null=True,
        help_text="The inherent score after the required controls that pass "
        "(governance.risk.residual).",
    )
    controls_satisfied = serializers.IntegerField()
    controls_total = serializers.IntegerField()
    controls_failing = serializers.IntegerField()


class BlockerSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    reason = serializers.CharField()


class GateQuerySerializer(serializers.Serializer):
    gate = serializers.ChoiceField(
        choices=Gate.choices,
        required=False,
        help_text="The gate to check; defaults to the initiative's next gate.",
    )
