"""Input shape of the registration wizard (one form per step) and of cross-BU adoption.
Forms never save: the views hand ``cleaned_data`` to ``portfolio.initiatives.services`` (the
wizard's
risk step uses the governance questionnaire form and services)."""

import copy

from django import forms
from django.contrib.auth import get_user_model

from core.models import BusinessUnit
from portfolio.initiatives.forms import UserChoiceField, writable_business_units
from portfolio.initiatives.models import Initiative


class WizardStepForm(forms.ModelForm):
    """A step's fields of an initiative. Works on a copy, so a rejected step leaves the
    initiative shown around the form as stored; focuses the first field (or the first
    with an error) when the step is shown or swapped in by htmx."""

    def __init__(self, *args, instance=None, **kwargs):
        super().__init__(*args, instance=copy.copy(instance) if instance else None, **kwargs)

    def focus_first_field(self) -> None:
        errors = self._errors or {}  # not validated yet: the first field
        names = [name for name in self.fields if name in errors] or list(self.fields)
        for name, field in self.fields.items():
            field.widget.attrs.pop("autofocus", None)
            if name == names[0]:
                field.widget.attrs["autofocus"] = True

    def full_clean(self):
        super().full_clean()
        self.focus_first_field()


class BasicsForm(WizardStepForm):
    """Step 1: what it is and which unit registers it (only the user's own units)."""

    class Meta:
        model = Initiative
        fields = ["title", "business_unit", "category", "ai_type"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        units = writable_business_units(user, self.instance)
        self.fields["business_unit"].queryset = units
        self.fields["business_unit"].empty_label = "Choose a business unit"
        if not self.instance.pk and len(units) == 1:
            self.fields["business_unit"].initial = units[0].pk
        self.fields["title"].help_text = "A short name people will recognise, e.g. “Claims triage”."
        self.focus_first_field()


class PurposeForm(WizardStepForm):
    """Step 2: the problem, the intended purpose, what the AI produces and the data."""

    # A person registering answers yes or no (unknown is for imported inventories).
    uses_pii = forms.BooleanField(label="Uses personal data (PII)", required=False)

    class Meta:
        model = Initiative
        fields = [
            "problem_statement",
            "purpose",
            "outputs",
            "data_sensitivity",
            "uses_pii",
            "sourcing",
        ]
        widgets = {
            "problem_statement": forms.Textarea(attrs={"rows": 3}),
            "purpose": forms.Textarea(attrs={"rows": 3}),
            "outputs": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "problem_statement": "What does not work well today, and for whom?",
            "purpose": "What the system is for and the benefits you expect.",
            "outputs": "What the AI produces: scores, classifications, text, decisions …",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Optional on the model (drafts may start empty); the wizard asks for them, since
        # the risk assessment depends on them.
        for name in ("problem_statement", "purpose", "outputs", "sourcing"):
            self.fields[name].required = True
        self.focus_first_field()


class OwnersForm(WizardStepForm):
    """Step 4: the people accountable (active users only) and links."""

    class Meta:
        model = Initiative
        fields = ["accountable_owner", "technical_lead", "executive_sponsor", "links"]
        field_classes = {
            "accountable_owner": UserChoiceField,
            "technical_lead": UserChoiceField,
            "executive_sponsor": UserChoiceField,
        }
        widgets = {"links": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "accountable_owner": "The one person accountable for the initiative.",
            "links": "One http(s) address per line: repository, documentation …",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = get_user_model().objects.filter(is_active=True).order_by("username")
        for name in ("accountable_owner", "technical_lead", "executive_sponsor"):
            self.fields[name].queryset = people
            self.fields[name].empty_label = "Nobody" if name != "accountable_owner" else None
        self.focus_first_field()


class SubmitForm(forms.Form):
    """Step 5: an optional note for the reviewers of the pilot gate."""

    comment = forms.CharField(
        label="Note for the reviewers",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AdoptForm(forms.Form):
    """Adopting another unit's initiative: which of the user's units, and a note."""

    business_unit = forms.ModelChoiceField(
        queryset=BusinessUnit.objects.none(), label="Adopt in", empty_label=None
    )
    comment = forms.CharField(
        label="Why your business unit adopts it",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["business_unit"].queryset = BusinessUnit.objects.filter(
            pk__in=[unit.pk for unit in units]
        ).order_by("name")
