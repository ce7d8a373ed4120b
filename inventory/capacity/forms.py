"""Input shape of GPU requests, quotas and external keys. Forms never save: views hand the
cleaned data to ``inventory.capacity.services``, which check permissions and rules again."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.forms.models import construct_instance
from django.utils import timezone

from core.choices import Role
from core.forms import date_input, permitted_units
from core.models import BusinessUnit
from core.permissions import business_unit_ids, can_manage_inventory, can_write_for_business_unit
from inventory.capacity.models import GPUQuota, GPURequest
from inventory.capacity.services import EXTERNAL_KEY_FIELDS, GPU_REQUEST_FIELDS, QUOTA_FIELDS
from inventory.gpu.forms import PoolChoiceField
from inventory.gpu.models import ORPHANING_STAGES, GPUAllocation, GPUPool
from inventory.gpu.selectors import scope_allocations
from inventory.registry.forms import visible_initiatives
from inventory.usage.models import ExternalKey
from portfolio.initiatives.models import Initiative


def _may_key_for(user, unit) -> bool:
    return can_manage_inventory(user) or unit.pk in business_unit_ids(user, {Role.BU_LEAD})


def _may_ask_for(user, unit) -> bool:
    return can_manage_inventory(user) or can_write_for_business_unit(user, unit.pk)


class ServiceValidatedForm(forms.ModelForm):
    """A model form that leaves model validation (clean, constraints, uniqueness) to the
    service, which words its errors per field; the form checks input shape only."""

    def _post_clean(self):
        try:
            self.instance = construct_instance(
                self, self.instance, self._meta.fields, self._meta.exclude
            )
        except ValidationError as error:
            self._update_errors(error)


class InitiativeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.reference} · {obj.title}"


class GPURequestForm(ServiceValidatedForm):
    class Meta:
        model = GPURequest
        fields = list(GPU_REQUEST_FIELDS)
        field_classes = {"pool": PoolChoiceField, "initiative": InitiativeChoiceField}
        labels = {
            "gpu_count": "GPUs",
            "business_unit": "Requesting business unit",
            "starts_on": "From",
            "ends_on": "Until",
        }
        widgets = {
            "starts_on": date_input(),
            "ends_on": date_input(),
            "justification": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "gpu_count": "Whole GPUs in exclusive pools; thousandths (milli-GPUs) in time-sliced "
            "pools; sevenths of a GPU (0.143, 0.286, 0.429 …) in MIG pools.",
            "business_unit": "Leave empty for the initiative's own unit; another unit may ask "
            "when the initiative is deployed to it.",
            "pricing_model": "Leave empty for the pool's pricing model.",
            "ends_on": "Leave empty for an open-ended allocation.",
            "justification": "What the GPUs are for; the approvers read it.",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["initiative"].queryset = visible_initiatives(user).exclude(
            stage__in=ORPHANING_STAGES
        )
        self.fields["pool"].queryset = GPUPool.objects.select_related("gpu_type").order_by("name")
        self.fields["business_unit"].queryset = permitted_units(user, _may_ask_for)
        self.fields["business_unit"].required = False
        self.fields["pricing_model"].required = False
        gpu_count = self.fields["gpu_count"]
        gpu_count.validators.append(MinValueValidator(Decimal("0.001")))
        gpu_count.widget.attrs.update({"min": "0.001", "step": "0.001"})
        if not self.is_bound:
            self.fields["starts_on"].initial = timezone.localdate()


class GPUQuotaForm(ServiceValidatedForm):
    class Meta:
        model = GPUQuota
        fields = list(QUOTA_FIELDS)
        field_classes = {"pool": PoolChoiceField, "initiative": InitiativeChoiceField}
        labels = {
            "deserved_gpus": "Deserved GPUs",
            "limit_gpus": "Limit (GPUs)",
            "monthly_gpu_hour_budget": "Monthly GPU-hour budget",
        }
        help_texts = {
            "initiative": "Leave empty for the whole unit's quota in the pool.",
            "deserved_gpus": "What the unit can count on.",
            "limit_gpus": "Requests above it still reach the approvers, never the fast path.",
            "monthly_gpu_hour_budget": "Optional.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pool"].queryset = GPUPool.objects.select_related("gpu_type").order_by("name")
        self.fields["business_unit"].queryset = BusinessUnit.objects.order_by("name")
        self.fields["business_unit"].required = False
        self.fields["initiative"].queryset = Initiative.objects.order_by("reference")
        self.fields["initiative"].required = False
        self.fields["initiative"].empty_label = "— the whole unit —"
        for name in ("deserved_gpus", "limit_gpus", "monthly_gpu_hour_budget"):
            self.fields[name].widget.attrs["min"] = "0"
        if self.instance.pk:  # the scope is fixed; only the numbers change
            for name in ("business_unit", "initiative", "pool"):
                self.fields[name].disabled = True

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("business_unit") and not cleaned.get("initiative"):
            self.add_error("business_unit", "Choose the business unit (or an initiative).")
        return cleaned


class ExternalKeyForm(ServiceValidatedForm):
    class Meta:
        model = ExternalKey
        fields = list(EXTERNAL_KEY_FIELDS)
        field_classes = {"initiative": InitiativeChoiceField}
        help_texts = {
            "value": "As the data writes it, e.g. a namespace, a Slurm account, a tag value.",
            "initiative": "Point the key at exactly one initiative, business unit or allocation.",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["initiative"].queryset = visible_initiatives(user)
        self.fields["business_unit"].queryset = permitted_units(user, _may_key_for)
        self.fields["allocation"].queryset = scope_allocations(
            GPUAllocation.objects.select_related("pool__gpu_type", "business_unit"), user
        ).order_by("-pk")
        for name in ("initiative", "business_unit", "allocation"):
            self.fields[name].required = False
