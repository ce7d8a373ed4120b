"""Every inventory model, gathered so Django finds them under the ``inventory`` app label.

Each table lives in its context's ``models.py``; import models from there, not from here.
"""

from inventory.capacity.models import GPUQuota, GPURequest
from inventory.finops.models import ChargebackLine, ChargebackMonth, Finding
from inventory.gpu.models import GPUAllocation, GPUPool, GPUType
from inventory.registry.models import (
    AIModel,
    EvaluationMetric,
    ModelVersion,
    MonitoringReport,
    ReviewReminder,
    Vendor,
    VendorProduct,
)
from inventory.usage.models import (
    CostRecord,
    ExternalKey,
    GPUDevice,
    IngestBatch,
    SlurmJobRecord,
    UsageDaily,
    UsageSample,
)

__all__ = [
    "AIModel",
    "ChargebackLine",
    "ChargebackMonth",
    "CostRecord",
    "EvaluationMetric",
    "ExternalKey",
    "Finding",
    "GPUAllocation",
    "GPUDevice",
    "GPUPool",
    "GPUQuota",
    "GPURequest",
    "GPUType",
    "IngestBatch",
    "ModelVersion",
    "MonitoringReport",
    "ReviewReminder",
    "SlurmJobRecord",
    "UsageDaily",
    "UsageSample",
    "Vendor",
    "VendorProduct",
]
