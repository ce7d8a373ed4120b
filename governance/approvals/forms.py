"""Input shape for approvals: decisions, submissions, policy steps and delegations. Forms
never save: views hand ``cleaned_data`` to ``governance.approvals.services``, which owns the
rules (a comment to reject, separation of duties, delegation limits) and reports breaches as
field errors."""

from django import forms
from django.contrib.auth import get_user_model

from core.choices import Role
from core.models import BusinessUnit
from governance.approvals.choices import Outcome
from governance.approvals.models import DelegateEligibility
from governance.approvals.services import ESCALATION_CHAIN
from governance.risk.choices import Gate

TEXTAREA = {"rows": 3}
# A native date picker needs ISO dates whatever the locale's display format.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DecisionForm(forms.Form):
    """Approve, request changes or reject the current step. The comment is optional here so
    the service's own message ("Explain what is wrong …") is the one shown beside it."""

    outcome = forms.ChoiceField(choices=Outcome.choices)
    comment = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="Required to request changes or reject.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_decision_%s")
        super().__init__(*args, **kwargs)


class SubmitForm(forms.Form):
    gate = forms.ChoiceField(choices=Gate.choices)
    comment = forms.CharField(required=False, max_length=4000)


class ReasonForm(forms.Form):
    """A written reason (escalating a disagreement; optional when withdrawing)."""

    reason = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs=TEXTAREA))


class CommentForm(forms.Form):
    comment = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs=TEXTAREA)
    )


class PolicyStepForm(forms.Form):
    """One step of an approval policy; its place in the formset is its order."""

    name = forms.CharField(max_length=100)
    role = forms.ChoiceField(label="Approver role", choices=Role.choices, initial=Role.COE_REVIEWER)
    approvals = forms.IntegerField(label="Approvals needed", min_value=1, max_value=20, initial=1)
    sla_hours = forms.IntegerField(label="SLA (hours)", min_value=1, max_value=2000, initial=72)
    escalation_role = forms.ChoiceField(
        label="Escalates to",
        choices=[(role.value, role.label) for role in ESCALATION_CHAIN],
        initial=Role.COE_ADMIN,
    )
    fast_path = forms.BooleanField(
        label="Fast path",
        required=False,
        help_text="Tier 1: approve automatically when every automated control passes.",
    )

    def step(self) -> dict:
        """The step as ``policy_revise`` takes it. Call after ``is_valid()``."""
        return {key: self.cleaned_data.get(key) for key in STEP_FIELDS}


STEP_FIELDS = ("name", "role", "approvals", "sla_hours", "escalation_role", "fast_path")

# approval_selectors.request_queue matches the current step's role for the first six steps.
MAX_POLICY_STEPS = 6

PolicyStepFormSet = forms.formset_factory(
    PolicyStepForm,
    extra=1,
    can_delete=True,
    can_order=True,
    max_num=MAX_POLICY_STEPS,
    validate_max=True,
)


def policy_step_initial(policy) -> list[dict]:
    """A policy's steps as the formset's initial data."""
    return [
        {
            "name": step.name,
            "role": step.required_role,
            "approvals": step.approvals_needed,
            "sla_hours": step.sla_hours,
            "escalation_role": step.escalation_role,
            "fast_path": step.fast_path_allowed,
            "ORDER": index + 1,
        }
        for index, step in enumerate(policy.steps.all())
    ]


class DelegationForm(forms.Form):
    delegate = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        help_text="A colleague who holds one of your approver roles, or whom the delegation "
        "rule allows (any member of the CoE, or holders of the “may act as delegate” "
        "permission).",
    )
    starts_on = forms.DateField(label="From", widget=DATE_INPUT)
    ends_on = forms.DateField(
        label="Until",
        widget=DATE_INPUT,
        help_text="Inclusive; at most 90 days after the start.",
    )
    reason = forms.CharField(required=False, max_length=200)

    def __init__(self, *args, delegates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["delegate"].queryset = delegates
        self.fields["delegate"].label_from_instance = _person


class DelegationRuleForm(forms.Form):
    """Administrators: who may act as delegate (``delegation.delegation_rule_set``)."""

    eligible = forms.ChoiceField(
        label="Who may act as delegate", choices=DelegateEligibility.choices
    )
    coe_business_unit = forms.ModelChoiceField(
        label="CoE business unit",
        queryset=BusinessUnit.objects.order_by("name"),
        required=False,
        help_text="With “any member of the CoE”: everyone in this unit is eligible too.",
    )

    def __init__(self, *args, rule, **kwargs):
        kwargs.setdefault(
            "initial", {"eligible": rule.eligible, "coe_business_unit": rule.coe_business_unit_id}
        )
        super().__init__(*args, **kwargs)


def _person(user) -> str:
    return f"{user.get_full_name() or user.username} ({user.username})"
