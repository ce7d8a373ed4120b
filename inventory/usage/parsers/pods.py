"""Kubernetes pod GPU records: a CSV or JSON pod list, one pod per row or object.

Column (or JSON key) names are case-insensitive. The public Alibaba ``openb`` pod trace's
columns are read as they are: ``name, cpu_milli, memory_mib, num_gpu, gpu_milli, gpu_spec,
qos, pod_phase, creation_time, deletion_time, scheduled_time``. Further optional columns:
``namespace``, ``cluster``, ``node``, ``labels`` (``k=v;k2=v2``, ``k=v,k2=v2`` or a JSON
object), ``gpu_type`` (or ``gpu_model``, else ``gpu_spec``), ``mig_profile`` (or
``gpu_resource``: ``nvidia.com/mig-1g.5gb``, ``mig-3g.20gb`` or ``1g.5gb``) and
``utilisation`` (GPU utilisation in %, 0–100). A JSON file is a list of such objects, or an
object whose ``pods`` (or ``items``) is that list; ``labels`` may be an object. A Kubernetes
``PodList`` (``kubectl get pods -o json``) is read too (``kubernetes_pod_fields``).

**GPU request.** ``num_gpu`` GPUs, each shared at ``gpu_milli`` thousandths (1–1000; empty =
1000, a whole GPU), as GPU-sharing schedulers request them; or, with a MIG profile,
``num_gpu`` MIG instances (default 1) of ``g``/7 of a GPU each (``1g.5gb`` = 1/7 of an A100
40GB, ``3g.20gb`` = 3/7, ``7g.40gb`` = 1; on 80 GB cards ``1g.10gb`` = 1/7 …).

**Times.** ``creation_time``, ``scheduled_time``, ``deletion_time``: ISO 8601 (naive = UTC) or
seconds, counted from ``time_origin`` (default the Unix epoch; a trace whose seconds start at
its own beginning passes the trace's start).

**GPU-hours** = num_gpu × gpu_milli / 1000 × (deletion − scheduled) / 3600, computed exactly
(fractions) and rounded once to 0.000001. A pod with no ``deletion_time`` is running: it
counts up to ``observed_at`` (default: the latest time written anywhere in the file).

**Not counted, reported**: a pod never scheduled (no ``scheduled_time``), pending
(``pod_phase`` Pending), failed before it was scheduled, or holding no GPU (``num_gpu`` 0 or
``gpu_milli`` 0). Every malformed row is a line error and nothing is imported.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from inventory.gpu.catalogue import MIG_SLICES
from inventory.usage.parsers._common import (
    csv_data_rows,
    csv_header,
    csv_records,
    from_epoch,
    parse_datetime,
    parse_decimal,
    to_text,
)
from inventory.usage.parsers.errors import ErrorCollector
from inventory.usage.parsers.records import PodUsage

__all__ = ["PodUsage", "gpu_hours_of", "parse_pods"]

SOURCE = "k8s_pods"
GPU_HOURS_QUANTUM = Decimal("0.000001")
MILLI_PER_GPU = 1000
_ALIASES = {
    "pod": ("name", "pod", "pod_name"),
    "namespace": ("namespace",),
    "cluster": ("cluster",),
    "node": ("node", "node_name"),
    "labels": ("labels",),
    "num_gpu": ("num_gpu", "gpus", "gpu_count"),
    "gpu_milli": ("gpu_milli",),
    "gpu_type": ("gpu_type", "gpu_model", "gpu_spec"),
    "mig_profile": ("mig_profile", "gpu_resource"),
    "qos": ("qos",),
    "phase": ("pod_phase", "phase"),
    "creation_time": ("creation_time",),
    "scheduled_time": ("scheduled_time",),
    "deletion_time": ("deletion_time",),
    "utilisation": ("utilisation", "utilization", "gpu_utilisation", "gpu_utilization"),
}
_SECONDS = re.compile(r"^-?\d+(\.\d+)?$")
_MIG = re.compile(r"^(?:nvidia\.com/)?(?:mig-)?(?P<profile>(?P<slices>[1-7])g\.\d+gb)$", re.I)
_NOT_SCHEDULED_PHASES = {"pending"}


def gpu_hours_of(gpus: Fraction, start: dt.datetime, end: dt.datetime) -> Decimal:
    """``gpus`` × (end − start) in hours, exact until one rounding to 0.000001."""
    span = end - start
    microseconds = (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds
    exact = gpus * Fraction(microseconds, 3_600_000_000)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        GPU_HOURS_QUANTUM, rounding=ROUND_HALF_EVEN
    )


def _time(raw, field: str, origin: dt.datetime) -> dt.datetime | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError(f"{field} {raw!r} is not a time")
    if isinstance(raw, int | float):
        raw = repr(raw)
    raw = str(raw).strip()
    if not raw:
        return None
    if _SECONDS.match(raw):
        seconds = Decimal(raw)
        if origin.timestamp() == 0:
            return from_epoch(float(seconds), field)
        try:
            return origin + dt.timedelta(seconds=float(seconds))
        except OverflowError:
            raise ValueError(f"{field} {raw!r} is out of range") from None
    return parse_datetime(raw, field)


def _labels(raw) -> dict:
    if isinstance(raw, dict):
        return {str(key): str(value) for key, value in raw.items()}
    text = str(raw or "").strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError("labels: not a JSON object") from None
        if not isinstance(parsed, dict):
            raise ValueError("labels: not a JSON object")
        return {str(key): str(value) for key, value in parsed.items()}
    labels = {}
    for item in re.split(r"[;,]", text):
        key, sep, value = item.strip().partition("=")
        if not item.strip():
            continue
        if not sep or not key.strip():
            raise ValueError(f"labels: {item.strip()!r} is not key=value")
        labels[key.strip()] = value.strip()
    return labels


def _whole(raw, field: str, *, default: int) -> int:
    text = "" if raw is None else str(raw).strip()
    if not text:
        return default
    number = parse_decimal(text, field)
    if number < 0 or number != number.to_integral_value():
        raise ValueError(f"{field} {text!r} is not a whole number ≥ 0")
    return int(number)


def _pod(get, *, line, origin) -> tuple[PodUsage | None, list[str]]:
    """One pod from ``get(name)`` (its raw value or None); (pod, problems)."""
    problems: list[str] = []

    def attempt(function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ValueError as exc:
            problems.append(str(exc))
            return None

    name = str(get("pod") or "").strip()
    if not name:
        problems.append("name (the pod) is empty")
    mig_raw = str(get("mig_profile") or "").strip()
    mig = _MIG.match(mig_raw) if mig_raw else None
    if mig_raw and not mig:
        problems.append(
            f"mig_profile {mig_raw!r} is not a MIG profile (e.g. nvidia.com/mig-1g.5gb)"
        )
    num_gpu = attempt(_whole, get("num_gpu"), "num_gpu", default=1 if mig_raw else 0)
    milli = attempt(_whole, get("gpu_milli"), "gpu_milli", default=MILLI_PER_GPU)
    if milli is not None and milli > MILLI_PER_GPU:
        problems.append(f"gpu_milli {milli} is more than {MILLI_PER_GPU} (one whole GPU)")
    if mig and get("gpu_milli") not in (None, "") and milli not in (None, MILLI_PER_GPU):
        problems.append("give either a MIG profile or gpu_milli, not both")
    created = attempt(_time, get("creation_time"), "creation_time", origin)
    scheduled = attempt(_time, get("scheduled_time"), "scheduled_time", origin)
    deleted = attempt(_time, get("deletion_time"), "deletion_time", origin)
    if scheduled and deleted and deleted < scheduled:
        problems.append("deletion_time is before scheduled_time")
    labels = attempt(_labels, get("labels")) or {}
    utilisation = None
    raw_util = get("utilisation")
    if raw_util not in (None, ""):
        value = attempt(parse_decimal, str(raw_util), "utilisation")
        if value is not None and not 0 <= value <= 100:
            problems.append(f"utilisation {value} is outside 0–100 %")
        elif value is not None:
            utilisation = float(value) / 100
    if problems:
        return None, problems

    if mig:
        share = Fraction(int(mig["slices"]), MIG_SLICES)
        gpus = num_gpu * share
        milli = round(share * MILLI_PER_GPU)
    else:
        gpus = Fraction(num_gpu * milli, MILLI_PER_GPU)
    phase = str(get("phase") or "").strip()
    pod = PodUsage(
        source=SOURCE,
        pod=name,
        namespace=str(get("namespace") or "").strip(),
        cluster=str(get("cluster") or "").strip(),
        node=str(get("node") or "").strip(),
        labels=labels,
        gpu_model=str(get("gpu_type") or "").strip(),
        num_gpu=num_gpu,
        gpu_milli=milli,
        mig_profile=mig["profile"].lower() if mig else "",
        gpus=gpus,
        qos=str(get("qos") or "").strip(),
        phase=phase,
        created=created,
        start=scheduled,
        end=deleted,
        utilisation=utilisation,
        line=line,
    )
    if scheduled is None:
        pod.not_counted = (
            "failed before it was scheduled" if phase.lower() == "failed" else "never scheduled"
        )
    elif phase.lower() in _NOT_SCHEDULED_PHASES:
        pod.not_counted = "pending"
    elif gpus == 0:
        pod.not_counted = "no GPU requested"
    return pod, []


def _close(pods: list[PodUsage], observed_at: dt.datetime | None) -> list[PodUsage]:
    """Give each counted pod its GPU-hours; running pods count up to ``observed_at``."""
    if observed_at is None:
        times = [t for p in pods for t in (p.created, p.start, p.end) if t is not None]
        observed_at = max(times) if times else None
    for pod in pods:
        if pod.not_counted:
            continue
        pod.counted_until = pod.end or max(observed_at or pod.start, pod.start)
        pod.gpu_hours = gpu_hours_of(pod.gpus, pod.start, pod.counted_until)
    return pods


def _csv(text: str, errors: ErrorCollector, origin) -> list[PodUsage]:
    records = csv_records(text)
    header_line, header, columns = csv_header(records, _ALIASES, errors)
    missing = [key for key in ("pod", "scheduled_time") if key not in columns]
    if "num_gpu" not in columns and "mig_profile" not in columns:
        missing.append("num_gpu or mig_profile")
    if missing:
        errors.add(header_line, f"header lacks column(s): {', '.join(missing)}")
        errors.raise_if_any()
    pods = []
    for number, get in csv_data_rows(records, width=len(header), columns=columns, errors=errors):
        pod, problems = _pod(get, line=number, origin=origin)
        for message in problems:
            errors.add(number, message)
        if pod is not None:
            pods.append(pod)
    return pods


GPU_RESOURCE = "nvidia.com/gpu"
MIG_RESOURCE_PREFIX = "nvidia.com/mig-"
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"  # set by GPU feature discovery on the node


def _quantity(value, resource: str) -> int:
    text = str(value).strip()
    if not text.isdigit():
        raise ValueError(f"{resource} {text!r} is not a whole number of devices")
    return int(text)


def kubernetes_pod_fields(pod: dict) -> dict:
    """The flat pod fields of a Kubernetes Pod object (``kubectl get pods -o json`` items):
    name, namespace, labels, node, the GPUs its containers request (``nvidia.com/gpu``, or
    ``nvidia.com/mig-<profile>`` instances; requests, else limits), the GPU product its node
    selector names, the phase, creation time, the time ``PodScheduled`` turned true, and the
    end: ``deletionTimestamp``, else for a finished pod its containers' last ``finishedAt``."""
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    whole, mig = 0, {}
    for container in spec.get("containers") or []:
        resources = container.get("resources") or {}
        asked = resources.get("requests") or resources.get("limits") or {}
        for resource, value in asked.items():
            if resource == GPU_RESOURCE:
                whole += _quantity(value, resource)
            elif resource.startswith(MIG_RESOURCE_PREFIX):
                profile = resource.removeprefix(MIG_RESOURCE_PREFIX)
                mig[profile] = mig.get(profile, 0) + _quantity(value, resource)
    if len(mig) > 1 or (mig and whole):
        raise ValueError("requests several kinds of GPU; import one kind per pod")
    scheduled = next(
        (
            condition.get("lastTransitionTime")
            for condition in status.get("conditions") or []
            if condition.get("type") == "PodScheduled" and condition.get("status") == "True"
        ),
        None,
    )
    end = metadata.get("deletionTimestamp")
    if not end and status.get("phase") in ("Succeeded", "Failed"):
        finished = [
            state["terminated"].get("finishedAt")
            for container in status.get("containerStatuses") or []
            if isinstance(state := container.get("state") or {}, dict) and state.get("terminated")
        ]
        end = max((when for when in finished if when), default=None)
    fields = {
        "name": metadata.get("name"),
        "namespace": metadata.get("namespace"),
        "labels": metadata.get("labels") or {},
        "node": spec.get("nodeName"),
        "gpu_type": (spec.get("nodeSelector") or {}).get(GPU_PRODUCT_LABEL),
        "pod_phase": status.get("phase"),
        "creation_time": metadata.get("creationTimestamp"),
        "scheduled_time": scheduled,
        "deletion_time": end,
    }
    if mig:
        ((profile, count),) = mig.items()
        fields.update(mig_profile=profile, num_gpu=count)
    else:
        fields["num_gpu"] = whole
    return fields


def _json(text: str, errors: ErrorCollector, origin) -> list[PodUsage]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        errors.add(exc.lineno, f"not valid JSON: {exc.msg}")
        errors.raise_if_any()
    if isinstance(document, dict):
        document = document.get("pods", document.get("items"))
    if not isinstance(document, list):
        errors.add(None, "$: expected a list of pods, or an object with a 'pods' list")
        errors.raise_if_any()
    pods = []
    for index, item in enumerate(document):
        if not isinstance(item, dict):
            errors.add(None, f"$[{index}]: expected an object")
            continue
        if isinstance(item.get("metadata"), dict):  # a Kubernetes Pod object (kubectl -o json)
            try:
                item = kubernetes_pod_fields(item)
            except ValueError as exc:
                errors.add(None, f"$.items[{index}]: {exc}")
                continue
        lowered = {str(key).lower(): value for key, value in item.items()}

        def get(name, _item=lowered):
            for alias in _ALIASES[name]:
                if alias in _item:
                    return _item[alias]
            return None

        pod, problems = _pod(get, line=None, origin=origin)
        for message in problems:
            errors.add(None, f"$[{index}]: {message}")
        if pod is not None:
            pods.append(pod)
    return pods


def parse_pods(
    text: str | bytes,
    *,
    time_origin: dt.datetime | None = None,
    observed_at: dt.datetime | None = None,
) -> list[PodUsage]:
    """Parse a pod CSV or JSON (see the module docstring); raises one ParseError listing
    every bad row."""
    errors = ErrorCollector("Kubernetes pods")
    text = to_text(text)
    origin = time_origin or dt.datetime.fromtimestamp(0, tz=dt.UTC)
    head = text.lstrip()[:1]
    pods = _json(text, errors, origin) if head in ("[", "{") else _csv(text, errors, origin)
    errors.raise_if_any()
    return _close(pods, observed_at)
