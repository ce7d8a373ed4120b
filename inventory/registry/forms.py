"""Input shape and validation of models, versions and vendors. Forms never save: views hand
the cleaned data to ``inventory.registry.services``."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from core.forms import CustomFieldsFormMixin, date_input, permitted_units
from inventory.registry.choices import (
    GATED_VERSION_STATUSES,
    VERSION_TRANSITIONS,
    ModelStatus,
    MonitoringStatus,
)
from inventory.registry.models import AIModel, EvaluationMetric, ModelVersion, Vendor, VendorProduct
from inventory.registry.permissions import can_create_model
from inventory.registry.services import (
    MODEL_FIELDS,
    MODEL_VERSION_FIELDS,
    VENDOR_FIELDS,
    VENDOR_PRODUCT_FIELDS,
)
from portfolio.initiatives.forms import UserChoiceField
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.selectors import scope_initiatives


def visible_initiatives(user) -> QuerySet[Initiative]:
    return scope_initiatives(Initiative.objects.order_by("reference"), user)


class AIModelForm(CustomFieldsFormMixin, forms.ModelForm):
    initiatives = forms.ModelMultipleChoiceField(
        queryset=Initiative.objects.none(),
        required=False,
        label="Initiatives served",
        help_text="Only initiatives you can see are listed.",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    class Meta:
        model = AIModel
        fields = [*MODEL_FIELDS, "initiatives"]
        field_classes = {"owner": UserChoiceField}
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["owner"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("username")
        )
        self.fields["vendor"].queryset = Vendor.objects.order_by("name")
        units = permitted_units(user, can_create_model, current=self.instance.business_unit_id)
        self.fields["business_unit"].queryset = units
        self.fields["initiatives"].queryset = visible_initiatives(user)
        if not self.instance.pk:
            self.fields["owner"].initial = user.pk
            if units.count() == 1:
                self.fields["business_unit"].initial = units.first()
        self.fields["name"].widget.attrs["autofocus"] = True
        self.add_custom_fields(user)

    def clean_initiatives(self):
        """The chosen visible initiatives plus any links the user cannot see: the service
        replaces the whole set, and an editor must not drop links hidden from them."""
        chosen = list(self.cleaned_data["initiatives"])
        if not self.instance.pk:
            return chosen
        hidden = self.instance.initiatives.exclude(
            pk__in=self.fields["initiatives"].queryset.values("pk")
        )
        return chosen + list(hidden)


class ModelVersionForm(CustomFieldsFormMixin, forms.ModelForm):
    class Meta:
        model = ModelVersion
        fields = list(MODEL_VERSION_FIELDS)
        widgets = {
            "released_on": date_input(),
            "last_validated_on": date_input(),
        }

    def __init__(self, *args, model: AIModel, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.model = model
        # A new version starts before production: release goes through the model_release
        # gate (inventory.registry.services.model_version_change_status).
        self.fields["status"].choices = [
            (value, label)
            for value, label in self.fields["status"].choices
            if value not in GATED_VERSION_STATUSES
        ]
        # The model-card texts: compact, as the form sits on the model's page.
        for field in self.fields.values():
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 2
        self.add_custom_fields(user)

    def clean_version(self):
        # The (model, version) constraint names a field this form lacks, so the form would
        # only report it as a general error; say it next to the version instead.
        version = self.cleaned_data["version"]
        if self.model.versions.filter(version=version).exists():
            raise forms.ValidationError(f"{self.model.name} already has a version {version}.")
        return version


def manual_targets(version: ModelVersion) -> list[tuple[str, str]]:
    """The statuses an editor may move ``version`` to by hand: its allowed transitions,
    without production (reached only through an approved model release)."""
    allowed = VERSION_TRANSITIONS.get(version.status, frozenset())
    return [
        (value, label)
        for value, label in ModelStatus.choices
        if value in allowed and value not in GATED_VERSION_STATUSES
    ]


class VersionStatusForm(forms.Form):
    to_status = forms.ChoiceField(label="Move to")
    reason = forms.CharField(
        required=False, max_length=500, widget=forms.TextInput(attrs={"placeholder": "Reason"})
    )

    def __init__(self, *args, version: ModelVersion, **kwargs):
        kwargs.setdefault("prefix", f"status-{version.pk}")
        super().__init__(*args, **kwargs)
        self.version = version
        self.fields["to_status"].choices = manual_targets(version)


class ReleaseRequestForm(forms.Form):
    comment = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": "Comment for the approvers"}),
    )

    def __init__(self, *args, version: ModelVersion, **kwargs):
        kwargs.setdefault("prefix", f"release-{version.pk}")
        super().__init__(*args, **kwargs)
        self.version = version


class ValidationRecordForm(forms.Form):
    validated_on = forms.DateField(label="Validated on", widget=date_input())
    note = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, version: ModelVersion, **kwargs):
        kwargs.setdefault("prefix", f"validation-{version.pk}")
        super().__init__(*args, **kwargs)
        self.version = version
        self.fields["validated_on"].initial = timezone.localdate()
        self.fields["validated_on"].widget.attrs["max"] = timezone.localdate().isoformat()


class MonitoringReportForm(forms.Form):
    status = forms.ChoiceField(label="Monitoring status", choices=MonitoringStatus.choices)
    note = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, version: ModelVersion, **kwargs):
        kwargs.setdefault("prefix", f"monitoring-{version.pk}")
        super().__init__(*args, **kwargs)
        self.version = version


class EvaluationMetricForm(forms.ModelForm):
    class Meta:
        model = EvaluationMetric
        fields = ["name", "value", "dataset", "measured_on"]
        labels = {"name": "Metric", "measured_on": "Measured on"}
        widgets = {"measured_on": date_input()}

    def __init__(self, *args, version: ModelVersion, **kwargs):
        kwargs.setdefault("prefix", f"metric-{version.pk}")
        super().__init__(*args, **kwargs)
        self.version = version
        self.fields["measured_on"].initial = timezone.localdate()


class VendorForm(CustomFieldsFormMixin, forms.ModelForm):
    website = forms.URLField(required=False, max_length=200, assume_scheme="https")

    class Meta:
        model = Vendor
        fields = list(VENDOR_FIELDS)
        labels = {"dpa_signed": "Data-processing agreement signed"}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "data_processing_terms": forms.Textarea(attrs={"rows": 3}),
            "contract_ends_on": date_input(),
            "due_diligence_on": date_input(),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autofocus"] = True
        self.add_custom_fields(user)


class VendorProductForm(forms.ModelForm):
    class Meta:
        model = VendorProduct
        fields = list(VENDOR_PRODUCT_FIELDS)
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, vendor: Vendor, **kwargs):
        super().__init__(*args, **kwargs)
        self.vendor = vendor
        self.fields["name"].widget.attrs["autofocus"] = True

    def clean_name(self):
        # The (vendor, name) constraint names a field this form lacks: report it here.
        name = self.cleaned_data["name"]
        # An edited product may keep its own name (a new one has no pk: nothing excluded).
        if self.vendor.products.filter(name=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"{self.vendor.name} already has a product {name}.")
        return name
