"""Input shape and validation of GPU pools and allocations. Forms never save: views hand the
cleaned data to ``inventory.gpu.services``."""

import datetime
from decimal import Decimal

from django import forms
from django.core.validators import MinValueValidator
from django.utils import timezone

from core.forms import CustomFieldsFormMixin, date_input, permitted_units
from core.periods import dates_from_period, is_midnight, parse_period_bound
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


class DateOrDateTimeField(forms.CharField):
    """A day typed as a date (``YYYY-MM-DD``, as the date picker sends it), or a full ISO 8601
    date-time from a script (UTC unless it carries an offset). Cleans to a ``date`` or an aware
    ``datetime``; None when empty."""

    widget = date_input()

    def prepare_value(self, value):
        if isinstance(value, datetime.date):
            return value.isoformat()
        return value

    def to_python(self, value):
        text = (super().to_python(value) or "").strip()
        if not text:
            return None
        try:
            if len(text) == len("YYYY-MM-DD"):
                return datetime.date.fromisoformat(text)
            return parse_period_bound(text, end=False)
        except ValueError:
            raise forms.ValidationError(
                "Enter a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM).",
                code="invalid",
            ) from None


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time", "step": "60"}, format="%H:%M")


class GPUAllocationForm(CustomFieldsFormMixin, forms.ModelForm):
    """An allocation's period as whole days (dates alone) or to the minute: a start time, an
    end time (the instant the GPUs are given back), both UTC."""

    starts_on = DateOrDateTimeField(label="Starts on")
    starts_time = forms.TimeField(
        label="Start time (UTC)",
        required=False,
        widget=_time_input(),
        help_text="Empty: from the start of the day.",
    )
    ends_on = DateOrDateTimeField(
        label="Ends on", required=False, help_text="Leave empty for an open-ended allocation."
    )
    ends_time = forms.TimeField(
        label="End time (UTC)",
        required=False,
        widget=_time_input(),
        help_text="When the GPUs are given back. Empty: the end date is the last day held.",
    )
    field_order = [
        "pool",
        "gpu_count",
        "initiative",
        "business_unit",
        "purpose",
        "starts_on",
        "starts_time",
        "ends_on",
        "ends_time",
        "notes",
    ]

    class Meta:
        model = GPUAllocation
        # The instants come from the date and time fields (see clean()).
        fields = [name for name in ALLOCATION_FIELDS if name not in ("starts_at", "ends_at")]
        field_classes = {"pool": PoolChoiceField}
        labels = {"gpu_count": "GPUs"}
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "gpu_count": "Fractions (to 0.001) are allowed for MIG or time-sliced sharing.",
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
        else:
            self.initial.update(_period_initial(self.instance))
        self.add_custom_fields(user)

    def clean(self):
        """Hand the service both the instants and their UTC dates."""
        cleaned = super().clean()
        if "ends_time" in cleaned and cleaned["ends_time"] and not cleaned.get("ends_on"):
            if "ends_on" not in self.errors:
                self.add_error("ends_time", "Give the end date too.")
            return cleaned
        if cleaned.get("starts_on") is None or self.errors:
            return cleaned
        starts_at = _bound(cleaned["starts_on"], cleaned.get("starts_time"), end=False)
        ends_at = _bound(cleaned.get("ends_on"), cleaned.get("ends_time"), end=True)
        cleaned["starts_at"], cleaned["ends_at"] = starts_at, ends_at
        cleaned["starts_on"], cleaned["ends_on"] = dates_from_period(starts_at, ends_at)
        # The model's own rules (end after start) judge these instants, not stored ones.
        self.instance.starts_at, self.instance.ends_at = starts_at, ends_at
        return cleaned


def _bound(day, time, *, end: bool):
    """The instant typed as a date (whole day: its start, or for an end the start of the next
    day), a date and a UTC time, or a full date-time."""
    if day is None:
        return None
    if isinstance(day, datetime.datetime):
        return day
    if time is not None:
        return datetime.datetime.combine(day, time.replace(tzinfo=None), tzinfo=datetime.UTC)
    return parse_period_bound(day.isoformat(), end=end)


def _period_initial(allocation) -> dict:
    """The date and time boxes of a stored period: dates alone when it is whole days."""
    starts_at, ends_at = allocation.starts_at, allocation.ends_at
    initial = {"starts_on": allocation.starts_on, "starts_time": None}
    if starts_at is not None and not is_midnight(starts_at):
        initial["starts_on"] = starts_at.astimezone(datetime.UTC).date()
        initial["starts_time"] = starts_at.astimezone(datetime.UTC).time()
    initial["ends_on"], initial["ends_time"] = allocation.ends_on, None
    if ends_at is not None and not is_midnight(ends_at):
        initial["ends_on"] = ends_at.astimezone(datetime.UTC).date()
        initial["ends_time"] = ends_at.astimezone(datetime.UTC).time()
    return initial


class AllocationImportForm(forms.Form):
    file = forms.FileField(
        label="Allocations CSV",
        help_text="Columns pool, gpu_count, business_unit, purpose, starts_on and optionally "
        "initiative, ends_on, notes (pool name, unit code, initiative reference; dates "
        "YYYY-MM-DD for whole days, or ISO 8601 date-times such as 2025-06-02T09:00Z, an "
        "end being when the GPUs are given back).",
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
