"""OpenCost allocation export: the JSON the ``/allocation`` API returns.

Shape: ``{"code": 200, "data": [{"<name>": {allocation}, …}, …]}`` — one object per step
window, each mapping an allocation name to its allocation: ``properties`` (``cluster``,
``node``, ``namespace``, ``pod``, ``labels``), ``window`` (``start``, ``end``), ``start``,
``end``, ``minutes``, ``gpuCount``, ``gpuHours``, ``gpuCost``, ``gpuCostAdjustment`` and
``gpuAllocation`` (``gpuDevice``, ``gpuModel``, ``isGPUShared``, ``gpuUsageAverage``,
``gpuRequestAverage``). A bare list of window objects is read the same way.

Each allocation with GPU-hours becomes one :class:`PodUsage` of its pod and time span
(``start``/``end``, else the window's): ``gpu_hours`` = ``gpuHours`` as exported (rounded to
0.000001), ``gpus`` = ``gpuCount`` (else ``gpuHours`` over the span), utilisation =
``gpuUsageAverage`` / ``gpuRequestAverage`` (capped at 1), cost = ``gpuCost`` +
``gpuCostAdjustment``. OpenCost's own rows (``__idle__``, ``__unallocated__``, ``__unmounted__``)
and allocations without GPU-hours are reported, not counted. Problems name their JSON path.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction

from inventory.usage.parsers._common import parse_datetime, to_text
from inventory.usage.parsers.errors import ErrorCollector
from inventory.usage.parsers.pods import GPU_HOURS_QUANTUM
from inventory.usage.parsers.records import PodUsage

__all__ = ["parse_opencost_allocation"]

SOURCE = "opencost"
_OPENCOST_ROWS = {"__idle__", "__unallocated__", "__unmounted__"}


def _number(value, path: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"{path}: {value!r} is not a number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{path}: {value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{path}: {value!r} is not a finite number")
    return number


def _allocation(name: str, item, path: str) -> tuple[PodUsage | None, list[str]]:
    if not isinstance(item, dict):
        return None, [f"{path}: expected an allocation object"]
    problems: list[str] = []

    def attempt(function, *args):
        try:
            return function(*args)
        except ValueError as exc:
            problems.append(str(exc))
            return None

    properties = item.get("properties") or {}
    window = item.get("window") or {}
    if not isinstance(properties, dict) or not isinstance(window, dict):
        return None, [f"{path}: properties and window must be objects"]
    labels = properties.get("labels") or {}
    if not isinstance(labels, dict):
        problems.append(f"{path}.properties.labels: expected an object")
        labels = {}
    gpu = item.get("gpuAllocation") or {}
    if not isinstance(gpu, dict):
        problems.append(f"{path}.gpuAllocation: expected an object")
        gpu = {}
    start_raw = item.get("start") or window.get("start")
    end_raw = item.get("end") or window.get("end")
    start = attempt(parse_datetime, str(start_raw or ""), f"{path}.start")
    end = attempt(parse_datetime, str(end_raw or ""), f"{path}.end")
    if start and end and end < start:
        problems.append(f"{path}: end is before start")
    hours = attempt(_number, item.get("gpuHours"), f"{path}.gpuHours")
    count = attempt(_number, item.get("gpuCount"), f"{path}.gpuCount")
    cost = attempt(_number, item.get("gpuCost"), f"{path}.gpuCost")
    adjustment = attempt(_number, item.get("gpuCostAdjustment"), f"{path}.gpuCostAdjustment")
    usage = attempt(_number, gpu.get("gpuUsageAverage"), f"{path}.gpuAllocation.gpuUsageAverage")
    request = attempt(
        _number, gpu.get("gpuRequestAverage"), f"{path}.gpuAllocation.gpuRequestAverage"
    )
    for value, label in ((hours, "gpuHours"), (count, "gpuCount")):
        if value is not None and value < 0:
            problems.append(f"{path}.{label}: {value} is negative")
    if problems:
        return None, problems

    hours = hours or Decimal("0")
    span_hours = Fraction(int((end - start).total_seconds() * 1_000_000), 3_600_000_000)
    if count:
        gpus = Fraction(count)
    elif hours and span_hours:
        gpus = Fraction(hours) / span_hours
    else:
        gpus = Fraction(0)
    utilisation = None
    if usage is not None and request:
        utilisation = min(float(usage / request), 1.0)
    pod = PodUsage(
        source=SOURCE,
        pod=str(properties.get("pod") or name),
        namespace=str(properties.get("namespace") or ""),
        cluster=str(properties.get("cluster") or ""),
        node=str(properties.get("node") or ""),
        labels={str(key): str(value) for key, value in labels.items()},
        gpu_model=str(gpu.get("gpuModel") or ""),
        num_gpu=int(count) if count and count == count.to_integral_value() else 0,
        gpu_milli=0,
        gpus=gpus,
        start=start,
        end=end,
        counted_until=end,
        gpu_hours=hours.quantize(GPU_HOURS_QUANTUM, rounding=ROUND_HALF_EVEN),
        utilisation=utilisation,
        cost=None if cost is None and adjustment is None else (cost or 0) + (adjustment or 0),
        phase="",
    )
    if name in _OPENCOST_ROWS or pod.pod in _OPENCOST_ROWS:
        pod.not_counted = f"OpenCost's {name} row"
    elif not hours:
        pod.not_counted = "no GPU-hours"
    return pod, []


def parse_opencost_allocation(text: str | bytes) -> list[PodUsage]:
    """Parse an OpenCost ``/allocation`` response; raises one ParseError listing every
    problem (by JSON path)."""
    errors = ErrorCollector("OpenCost allocation")
    try:
        document = json.loads(to_text(text))
    except json.JSONDecodeError as exc:
        errors.add(exc.lineno, f"not valid JSON: {exc.msg}")
        errors.raise_if_any()
    if isinstance(document, dict):
        code = document.get("code", 200)
        if code != 200:
            errors.add(None, f"$.code: the export reports code {code!r}, not 200")
            errors.raise_if_any()
        windows = document.get("data")
    else:
        windows = document
    if isinstance(windows, dict):
        windows = [windows]
    if not isinstance(windows, list):
        errors.add(None, "$.data: expected a list of allocation sets")
        errors.raise_if_any()
    pods: list[PodUsage] = []
    for index, allocations in enumerate(windows):
        if allocations is None:
            continue
        if not isinstance(allocations, dict):
            errors.add(None, f"$.data[{index}]: expected an object of allocations")
            continue
        for name, item in allocations.items():
            pod, problems = _allocation(str(name), item, f"$.data[{index}][{name!r}]")
            for message in problems:
                errors.add(None, message)
            if pod is not None:
                pods.append(pod)
    errors.raise_if_any()
    return pods
