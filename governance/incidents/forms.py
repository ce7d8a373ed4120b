"""Input shapes of the incident pages; they never save, a service does."""

from django import forms
from django.contrib.auth import get_user_model

from core.forms import CustomFieldsFormMixin
from governance.incidents.choices import IncidentStatus
from governance.incidents.models import CorrectiveAction, Incident, ReportingRegime
from inventory.registry.models import ModelVersion
from portfolio.initiatives.selectors import initiative_list

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class IncidentForm(CustomFieldsFormMixin, forms.ModelForm):
    """Report (or edit) an incident. The initiatives offered are those the person sees."""

    class Meta:
        model = Incident
        fields = [
            "title",
            "description",
            "initiatives",
            "model_versions",
            "business_units",
            "category",
            "severity",
            "death_suspected",
            "widespread_infringement",
            "personal_data_breach",
            "detected_at",
            "became_aware_at",
            "causal_link_at",
            "immediate_actions",
            "owner",
        ]
        widgets = {
            "detected_at": DATETIME,
            "became_aware_at": DATETIME,
            "causal_link_at": DATETIME,
            "description": forms.Textarea(attrs={"rows": 4}),
            "immediate_actions": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        initiatives = initiative_list(user=user).order_by("reference")
        self.fields["initiatives"].queryset = initiatives
        self.fields["model_versions"].queryset = (
            ModelVersion.objects.filter(model__initiatives__in=initiatives)
            .select_related("model")
            .distinct()
        )
        from core.filtersets import visible_business_units

        self.fields["business_units"].queryset = visible_business_units(_Request(user))
        self.fields["owner"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("username")
        )
        self.add_custom_fields(user)


class _Request:
    """``visible_business_units`` takes a request; a form has only the user."""

    def __init__(self, user):
        self.user = user


class TransitionForm(forms.Form):
    status = forms.ChoiceField(choices=IncidentStatus.choices)
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReportRecordForm(forms.Form):
    submitted_at = forms.DateTimeField(widget=DATETIME, required=False)
    submitted_to = forms.CharField(max_length=200, required=False)
    reference = forms.CharField(max_length=100, required=False)
    file = forms.FileField(required=False)


class ActionForm(forms.ModelForm):
    class Meta:
        model = CorrectiveAction
        fields = ["title", "owner", "due_on"]
        widgets = {"due_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("username")
        )


class WaiveForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class PauseForm(forms.Form):
    initiative = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class RegimeForm(forms.ModelForm):
    class Meta:
        model = ReportingRegime
        fields = [
            "name",
            "legal_basis",
            "recipient",
            "conditions",
            "deadlines",
            "initial_may_be_incomplete",
            "warn_before_hours",
            "escalate_before_hours",
            "is_active",
            "notes",
        ]
