"""NVIDIA dcgm-exporter metrics: Prometheus text scrapes and Prometheus ``query_range`` JSON.

Both parsers return one :class:`GpuSample` per (device, timestamp), merging the metrics seen
for it. Activity prefers ``DCGM_FI_PROF_GR_ENGINE_ACTIVE`` (a 0–1 ratio, meaningful on MIG) and
falls back to ``DCGM_FI_DEV_GPU_UTIL`` (a percentage, divided by 100). Metrics that are not
used are still syntax-checked and otherwise ignored.
"""

from __future__ import annotations

import datetime as dt
import json
import math

from prometheus_client.parser import text_string_to_metric_families

from inventory.usage.parsers._common import from_epoch, parse_float, to_text
from inventory.usage.parsers.errors import ErrorCollector
from inventory.usage.parsers.records import GpuSample

__all__ = ["GpuSample", "parse_prometheus_text", "parse_query_range_json"]

GR_ENGINE_ACTIVE = "DCGM_FI_PROF_GR_ENGINE_ACTIVE"
GPU_UTIL = "DCGM_FI_DEV_GPU_UTIL"
FB_USED = "DCGM_FI_DEV_FB_USED"
FB_FREE = "DCGM_FI_DEV_FB_FREE"
FB_RESERVED = "DCGM_FI_DEV_FB_RESERVED"
_MEMORY_FIELDS = {
    FB_USED: "memory_used_mib",
    FB_FREE: "memory_free_mib",
    FB_RESERVED: "memory_reserved_mib",
}
USED_METRICS = frozenset({GR_ENGINE_ACTIVE, GPU_UTIL, *_MEMORY_FIELDS})


def _label(labels: dict[str, str], *names: str) -> str:
    """First non-empty label among ``names``."""
    for name in names:
        value = labels.get(name, "")
        if value:
            return value
    return ""


class _Merger:
    """Folds (metric, labels, value, time) observations into one sample per device and time."""

    def __init__(self, errors: ErrorCollector):
        self.errors = errors
        self.samples: dict[tuple, GpuSample] = {}
        self._util: dict[tuple, float] = {}

    def add(
        self,
        metric: str,
        labels: dict[str, str],
        value: float,
        when: dt.datetime,
        line: int | None,
        where: str = "",
    ) -> None:
        prefix = f"{where}: " if where else ""
        if metric not in USED_METRICS:
            return
        if not math.isfinite(value):
            self.errors.add(line, f"{prefix}{metric} value {value!r} is not a finite number")
            return
        gpu_label = labels.get("gpu", "")
        uuid = labels.get("UUID", "")
        gpu: int | None = None
        if gpu_label:
            try:
                gpu = int(gpu_label)
            except ValueError:
                self.errors.add(line, f"{prefix}gpu label {gpu_label!r} is not an integer")
                return
        if gpu is None and not uuid:
            self.errors.add(line, f"{prefix}{metric} has neither a gpu nor a UUID label")
            return

        sample = GpuSample(
            timestamp=when,
            hostname=_label(labels, "Hostname", "hostname"),
            gpu=gpu,
            uuid=uuid,
            model_name=labels.get("modelName", ""),
            mig_profile=labels.get("GPU_I_PROFILE", ""),
            mig_instance=labels.get("GPU_I_ID", ""),
            # After a Prometheus scrape without honor_labels, pod/namespace/container name the
            # exporter itself and the workload's labels are the exported_* ones: those win.
            pod=_label(labels, "exported_pod", "pod"),
            namespace=_label(labels, "exported_namespace", "namespace"),
            container=_label(labels, "exported_container", "container"),
            line=line,
        )
        key = (*sample.device_key, when)
        merged = self.samples.get(key)
        if merged is None:
            merged = self.samples[key] = sample
        else:
            for attr in ("model_name", "mig_profile", "pod", "namespace", "container", "uuid"):
                if not getattr(merged, attr) and getattr(sample, attr):
                    setattr(merged, attr, getattr(sample, attr))
            if merged.gpu is None:
                merged.gpu = sample.gpu

        if metric == GR_ENGINE_ACTIVE:
            if not 0 <= value <= 1:
                self.errors.add(line, f"{prefix}{metric} {value:g} is outside 0–1")
                return
            merged.activity = value
            merged.activity_metric = GR_ENGINE_ACTIVE
        elif metric == GPU_UTIL:
            if not 0 <= value <= 100:
                self.errors.add(line, f"{prefix}{metric} {value:g} is outside 0–100 %")
                return
            self._util[key] = value
        else:
            if value < 0 or value != int(value):
                self.errors.add(line, f"{prefix}{metric} {value:g} is not a whole number of MiB")
                return
            setattr(merged, _MEMORY_FIELDS[metric], int(value))

    def result(self) -> list[GpuSample]:
        for key, util in self._util.items():
            sample = self.samples[key]
            if sample.activity_metric != GR_ENGINE_ACTIVE:
                sample.activity = util / 100
                sample.activity_metric = GPU_UTIL
        return sorted(
            self.samples.values(),
            key=lambda s: (
                s.timestamp,
                s.hostname,
                s.gpu if s.gpu is not None else -1,
                s.uuid,
                s.mig_instance,
            ),
        )


def parse_prometheus_text(
    text: str | bytes, scraped_at: dt.datetime | None = None
) -> list[GpuSample]:
    """Parse a dcgm-exporter ``/metrics`` scrape (Prometheus text exposition format).

    Samples without an explicit timestamp take ``scraped_at`` (must be timezone-aware).
    Each line is parsed on its own with ``prometheus_client`` so errors carry line numbers.
    """
    if scraped_at is not None:
        if scraped_at.tzinfo is None or scraped_at.utcoffset() is None:
            raise ValueError("scraped_at must be timezone-aware")
        scraped_at = scraped_at.astimezone(dt.UTC)
    errors = ErrorCollector("Prometheus text")
    merger = _Merger(errors)
    for number, raw in enumerate(to_text(text).splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            families = list(text_string_to_metric_families(line + "\n"))
        except Exception as exc:  # the parser raises ValueError, IndexError, KeyError…
            errors.add(number, f"malformed line ({str(exc) or type(exc).__name__}): {line[:120]}")
            continue
        if line.startswith("#"):
            continue
        for family in families:
            for sample in family.samples:
                if sample.timestamp is not None:
                    try:
                        when = from_epoch(float(sample.timestamp))
                    except ValueError as exc:
                        errors.add(number, str(exc))
                        continue
                elif scraped_at is not None:
                    when = scraped_at
                else:
                    if sample.name in USED_METRICS:
                        errors.add(number, "sample has no timestamp and no scraped_at was given")
                    continue
                merger.add(sample.name, sample.labels, float(sample.value), when, number)
    errors.raise_if_any()
    return merger.result()


def parse_query_range_json(text: str | bytes) -> list[GpuSample]:
    """Parse a Prometheus HTTP API ``query_range`` (matrix) or instant-query (vector) response.

    The metric is taken from each series' ``__name__`` label. Structural problems are reported
    with line ``None`` and a JSON path; a JSON syntax error carries its line number.
    """
    errors = ErrorCollector("Prometheus query_range JSON")
    try:
        doc = json.loads(to_text(text))
    except json.JSONDecodeError as exc:
        errors.add(exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})")
        errors.raise_if_any()
    merger = _Merger(errors)

    if not isinstance(doc, dict):
        errors.add(None, "top level is not a JSON object")
        errors.raise_if_any()
    if doc.get("status") != "success":
        detail = doc.get("error") or doc.get("status")
        errors.add(None, f"status is not 'success' ({detail!r})")
        errors.raise_if_any()
    data = doc.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("result"), list):
        errors.add(None, "data.result is missing or not a list")
        errors.raise_if_any()
    result_type = data.get("resultType")
    if result_type not in ("matrix", "vector"):
        errors.add(None, f"data.resultType {result_type!r} is not 'matrix' or 'vector'")
        errors.raise_if_any()

    for i, series in enumerate(data["result"]):
        path = f"data.result[{i}]"
        if not isinstance(series, dict) or not isinstance(series.get("metric"), dict):
            errors.add(None, f"{path}.metric is missing or not an object")
            continue
        labels = {str(k): str(v) for k, v in series["metric"].items()}
        metric = labels.get("__name__", "")
        if not metric:
            errors.add(None, f"{path}.metric has no __name__")
            continue
        if result_type == "matrix":
            points = series.get("values")
            if not isinstance(points, list):
                errors.add(None, f"{path}.values is missing or not a list")
                continue
            point_paths = [f"{path}.values[{j}]" for j in range(len(points))]
        else:
            points = [series.get("value")]
            point_paths = [f"{path}.value"]
        for point, where in zip(points, point_paths, strict=True):
            if not isinstance(point, list) or len(point) != 2:
                errors.add(None, f"{where} is not a [timestamp, value] pair")
                continue
            try:
                if isinstance(point[0], bool) or not isinstance(point[0], int | float | str):
                    raise ValueError(f"timestamp {point[0]!r} is not a number")
                when = from_epoch(parse_float(str(point[0]), "timestamp"))
                if not isinstance(point[1], str | int | float) or isinstance(point[1], bool):
                    raise ValueError(f"value {point[1]!r} is not a number")
                value = float(point[1])
            except ValueError as exc:
                errors.add(None, f"{where}: {exc}")
                continue
            merger.add(metric, labels, value, when, None, where=where)
    errors.raise_if_any()
    return merger.result()
