"""Input shape and validation of GPU pools and allocations. Forms never save: views hand the
cleaned data to ``inventory.gpu.services``."""

from decimal import Decimal

from django import forms
from django.core.validators import MinValueValidator
from django.utils import timezone

from core.forms import date_input, permitted_units
from inventory.gpu.allocation_import import MAX_UPLOAD_BYTES as ALLOCATION_IMPORT_MAX_BYTES
from inventory.gpu.choices import SharingMode
from inventory.gpu.models import GPUAllocation, GPUPool, GPUType
from inventory.gpu.permissions import can_create_allocation
from inventory.gpu.services import ALLOCATION_FIELDS, GPU_TYPE_FIELDS, POOL_FIELDS
from inventory.registry.forms import visible_initiatives


class NameListField(forms.CharField):
    """A list of names typed one per line (or comma-separated); an empty box is no names."""

    widget = forms.Textarea(attrs={"rows": 2})

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        items = (part.strip() for line in text.splitlines() for part in line.split(","))
        return list(dict.fromkeys(item for item in items if item))


class GPUTypeForm(forms.ModelForm):
    monitoring_names = NameListField(
        required=False,
        help_text="The names monitoring reports for this GPU (DCGM modelName), one per line, "
        "e.g. NVIDIA H100 80GB HBM3.",
    )
    mig_profiles = NameListField(
        label="MIG profiles",
        required=False,
        help_text="One per line or comma-separated, e.g. 1g.10gb, 3g.40gb, 7g.80gb.",
    )

    class Meta:
        model = GPUType
        fields = list(GPU_TYPE_FIELDS)
        labels = {
            "memory_gb": "Memory (GB)",
            "gpus_per_instance": "GPUs per instance",
            "instance_hourly_price": "Instance $ per hour",
            "price_as_of": "Price date (YYYY-MM)",
        }
        help_texts = {
            "memory_gb": "Optional.",
            "reference_hourly_price": "A public list price for guidance; imported costs and "
            "each pool's rate card always win.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autofocus"] = True
        for name in ("reference_hourly_price", "instance_hourly_price"):
            self.fields[name].validators.append(MinValueValidator(Decimal("0")))
            self.fields[name].widget.attrs["min"] = "0"
        self.fields["gpus_per_instance"].widget.attrs["min"] = "1"


class GPUPoolForm(forms.ModelForm):
    class Meta:
        model = GPUPool
        fields = list(POOL_FIELDS)
        labels = {
            "gpu_type": "GPU type",
            "gpu_count": "Capacity (GPUs)",
            "hourly_rate": "Rate card ($ per GPU-hour)",
            "gpus_per_instance": "GPUs per instance",
        }
        help_texts = {
            "sharing_mode": "MIG pools hand out sevenths of a GPU, time-sliced pools any share "
            "in thousandths (milli-GPUs); exclusive pools whole GPUs.",
            "instance_type": "The instance type billed for these GPUs (e.g. p5.48xlarge), so "
            "cost lines without a GPU count are still recognised.",
            "commitment_id": "A capacity reservation or savings-plan id bought for this pool; "
            "its unused hours are attributed to the pool.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gpu_type"].queryset = GPUType.objects.order_by("vendor", "name")
        rate = self.fields["hourly_rate"]
        rate.validators.append(MinValueValidator(Decimal("0")))
        rate.widget.attrs["min"] = "0"
        self.fields["name"].widget.attrs["autofocus"] = True
        # Exclusive unless said otherwise (older clients and scripts do not send it).
        self.fields["sharing_mode"].required = False
        self.fields["gpus_per_instance"].widget.attrs["min"] = "1"

    def clean_sharing_mode(self):
        return self.cleaned_data.get("sharing_mode") or SharingMode.EXCLUSIVE


class PoolChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.gpu_type.name})"


class GPUAllocationForm(forms.ModelForm):
    class Meta:
        model = GPUAllocation
        fields = list(ALLOCATION_FIELDS)
        field_classes = {"pool": PoolChoiceField}
        labels = {"gpu_count": "GPUs", "starts_on": "Starts on", "ends_on": "Ends on"}
        widgets = {
            "starts_on": date_input(),
            "ends_on": date_input(),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "gpu_count": "Fractions (to 0.001) are allowed for MIG or time-sliced sharing.",
            "ends_on": "Leave empty for an open-ended allocation.",
            "initiative": "An allocation without a live initiative is reported as orphaned.",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pool"].queryset = GPUPool.objects.select_related("gpu_type").order_by("name")
        gpu_count = self.fields["gpu_count"]
        gpu_count.validators.append(MinValueValidator(Decimal("0.001")))
        gpu_count.widget.attrs.update({"min": "0.001", "step": "0.001"})
        self.fields["initiative"].queryset = visible_initiatives(user)
        self.fields["initiative"].empty_label = "— none —"
        self.fields["business_unit"].queryset = permitted_units(
            user, can_create_allocation, current=self.instance.business_unit_id
        )
        if not self.instance.pk:
            self.fields["starts_on"].initial = timezone.localdate()


class AllocationImportForm(forms.Form):
    file = forms.FileField(
        label="Allocations CSV",
        help_text="Columns pool, gpu_count, business_unit, purpose, starts_on and optionally "
        "initiative, ends_on, notes (pool name, unit code, initiative reference; dates "
        "YYYY-MM-DD).",
    )
    dry_run = forms.BooleanField(
        label="Dry run: check every row, write nothing",
        required=False,
        initial=True,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > ALLOCATION_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1e6:.1f} MB; the limit is "
                f"{ALLOCATION_IMPORT_MAX_BYTES / 1e6:g} MB."
            )
        return upload
