"""CSV and XLSX exports of the GPU pool and allocation lists: every row the list page would
show for the same filters (not one page), through the page's own scoped selector and
FilterSet, iterated in chunks and written by ``core.exports``."""

from collections.abc import Iterator

from core.customfields import export_columns
from core.exports import EXPORT_CHUNK_SIZE
from core.filtersets import apply_filters
from core.periods import format_period_bound, is_midnight
from inventory.gpu import selectors
from inventory.gpu.filtersets import GPUAllocationFilterSet, GPUPoolFilterSet

POOL_EXPORT_HEADER = (
    "Name",
    "Provider",
    "Region",
    "Account or project",
    "Cluster",
    "Kind",
    "GPU type",
    "Capacity (GPUs)",
    "Allocated today (GPUs)",
    "Sharing mode",
    "Pricing",
    "Currency",
    "Rate per GPU-hour",
    "Instance type",
    "GPUs per instance",
    "Commitment id",
    "Owning team",
)

ALLOCATION_EXPORT_HEADER = (
    "Pool",
    "GPU type",
    "GPUs",
    "Initiative",
    "Initiative title",
    "Business unit",
    "Purpose",
    "Starts on",
    "Ends on",
    "Orphaned",
    "Requested by",
    "Notes",
)


def _person(user) -> str:
    return (user.get_full_name() or user.username) if user else ""


def pool_export_rows(*, user, params, request=None) -> Iterator[tuple]:
    """The header, then one row per pool of the filtered pool list."""
    yield POOL_EXPORT_HEADER
    _, pools = apply_filters(
        params,
        queryset=selectors.pool_list(user=user),
        filterset_class=GPUPoolFilterSet,
        request=request,
    )
    for pool in pools.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield (
            pool.name,
            pool.get_provider_display(),
            pool.region,
            pool.account,
            pool.cluster,
            pool.get_kind_display(),
            pool.gpu_type.name,
            pool.gpu_count,
            pool.allocated_gpus,
            pool.get_sharing_mode_display(),
            pool.get_pricing_model_display(),
            pool.currency,
            pool.hourly_rate,
            pool.instance_type,
            pool.gpus_per_instance,
            pool.commitment_id,
            pool.owning_team,
        )


def _bound(moment, day, *, end: bool):
    """A whole-day bound as its date (as always); one within a day as its ISO 8601 UTC
    date-time, which the allocation import reads back."""
    if moment is None or is_midnight(moment):
        return day
    return format_period_bound(moment, end=end) + "Z"


def allocation_export_rows(*, user, params, request=None) -> Iterator[tuple]:
    """The header, then one row per allocation of the filtered, scoped allocation list."""
    custom = export_columns("gpu_allocation", user=user)
    yield (*ALLOCATION_EXPORT_HEADER, *(header for header, _ in custom))
    _, allocations = apply_filters(
        params,
        queryset=selectors.allocation_list(user=user),
        filterset_class=GPUAllocationFilterSet,
        request=request,
    )
    for allocation in allocations.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        initiative = allocation.initiative
        yield (
            allocation.pool.name,
            allocation.pool.gpu_type.name,
            allocation.gpu_count,
            initiative.reference if initiative else "",
            initiative.title if initiative else "",
            allocation.business_unit.name,
            allocation.get_purpose_display(),
            _bound(allocation.starts_at, allocation.starts_on, end=False),
            _bound(allocation.ends_at, allocation.ends_on, end=True),
            "Yes" if allocation.is_orphaned else "No",
            _person(allocation.requested_by),
            allocation.notes,
            *(value(allocation) for _, value in custom),
        )
