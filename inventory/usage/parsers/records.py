"""Plain records produced by the parsers: no Django, ready for a bulk insert."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction


@dataclass(slots=True)
class GpuSample:
    """One GPU (or MIG instance) at one instant, with the DCGM metrics seen for it merged."""

    timestamp: dt.datetime  # aware, UTC
    hostname: str = ""
    gpu: int | None = None  # physical GPU index (the parent GPU for a MIG instance)
    uuid: str = ""
    model_name: str = ""
    mig_profile: str = ""  # GPU_I_PROFILE, e.g. "1g.10gb"
    mig_instance: str = ""  # GPU_I_ID
    pod: str = ""
    namespace: str = ""
    container: str = ""
    activity: float | None = None  # 0–1
    activity_metric: str = ""  # the DCGM field the activity came from
    memory_used_mib: int | None = None
    memory_free_mib: int | None = None
    memory_reserved_mib: int | None = None
    line: int | None = None  # first input line contributing to the sample

    @property
    def device_key(self) -> tuple[str, str, str]:
        """Identity of the device: host, GPU (UUID, else index), MIG instance."""
        gpu = self.uuid or ("" if self.gpu is None else str(self.gpu))
        return (self.hostname, gpu, self.mig_instance)


@dataclass(slots=True)
class UsageRow:
    """A row of the plain usage CSV; field names match :class:`GpuSample` where they overlap."""

    timestamp: dt.datetime  # aware, UTC
    allocation_id: str
    device_id: str
    utilisation_pct: Decimal  # 0–100 as written in the file
    activity: float  # utilisation_pct / 100
    memory_used_mib: int | None
    line: int


@dataclass(slots=True)
class SlurmJob:
    job_id: str
    account: str
    wckey: str
    user: str
    start: dt.datetime | None  # None when not started (Unknown/None)
    end: dt.datetime | None  # None while running (End=Unknown)
    elapsed_seconds: int
    gpus: int
    gpu_type: str  # "" untyped; the type when AllocTRES names exactly one
    gpu_types: dict[str, int] = field(default_factory=dict)  # typed gres counts, as written
    gpu_hours: Decimal = Decimal("0")
    job_name: str = ""
    cluster: str = ""
    partition: str = ""
    state: str = ""
    node_list: str = ""
    is_step: bool = False
    line: int | None = None

    @property
    def is_running(self) -> bool:
        return self.end is None


@dataclass(slots=True)
class CostLine:
    provider: str
    billed_cost: Decimal
    effective_cost: Decimal
    billing_currency: str
    charge_period_start: dt.datetime  # inclusive, UTC
    charge_period_end: dt.datetime  # exclusive, UTC
    charge_category: str  # Usage, Purchase, Tax, Credit, Adjustment
    charge_class: str = ""  # "" or "Correction"
    resource_id: str = ""
    resource_name: str = ""
    resource_type: str = ""
    service_name: str = ""
    sub_account_id: str = ""
    region_id: str = ""
    pricing_category: str = ""
    sku_id: str = ""
    tags: dict = field(default_factory=dict)
    sku_price_details: dict = field(default_factory=dict)
    gpu_count: Decimal | None = None
    commitment_discount_id: str = ""
    commitment_discount_status: str = ""
    capacity_reservation_id: str = ""
    capacity_reservation_status: str = ""
    consumed_quantity: Decimal | None = None
    consumed_unit: str = ""
    line: int | None = None

    @property
    def consumed_hours(self) -> Decimal | None:
        """``ConsumedQuantity`` when it is measured in hours (instance-hours of the line)."""
        if self.consumed_quantity is None:
            return None
        unit = self.consumed_unit.strip().lower()
        return self.consumed_quantity if unit in {"hour", "hours", "hrs", "hr", "h"} else None

    @property
    def is_unused_commitment(self) -> bool:
        return "Unused" in (self.commitment_discount_status, self.capacity_reservation_status)

    @property
    def is_correction(self) -> bool:
        return self.charge_class == "Correction"

    @property
    def is_gpu(self) -> bool:
        return self.gpu_count is not None and self.gpu_count > 0


@dataclass(slots=True)
class PodUsage:
    """A Kubernetes pod's GPU holding (pod trace CSV/JSON) or an OpenCost allocation.

    ``gpus`` is the exact share of whole GPUs held (num_gpu × gpu_milli / 1000, or MIG
    instances × slices / 7); ``gpu_hours`` is exact to 0.000001. ``not_counted`` says why a
    pod holds no GPU-hours (never scheduled, pending, no GPU); such pods are reported, not
    stored. ``end`` is None while the pod runs (then ``counted_until`` closes the span)."""

    source: str  # "k8s_pods" or "opencost"
    pod: str
    namespace: str = ""
    cluster: str = ""
    node: str = ""
    labels: dict = field(default_factory=dict)
    gpu_model: str = ""
    num_gpu: int = 0
    gpu_milli: int = 0  # per GPU, 1–1000
    mig_profile: str = ""  # e.g. "1g.5gb"
    gpus: Fraction = Fraction(0)
    qos: str = ""
    phase: str = ""
    created: dt.datetime | None = None
    start: dt.datetime | None = None  # scheduled (trace) or allocation start (OpenCost)
    end: dt.datetime | None = None  # deleted (trace) or allocation end (OpenCost)
    counted_until: dt.datetime | None = None
    gpu_hours: Decimal = Decimal("0")
    utilisation: float | None = None  # 0–1
    cost: Decimal | None = None
    not_counted: str = ""
    line: int | None = None

    @property
    def is_running(self) -> bool:
        return self.end is None and not self.not_counted
