"""Slurm accounting: ``sacct -P`` (``--parsable2``) output with a header row.

GPUs come from ``AllocTRES``: the untyped ``gres/gpu=N`` when present, otherwise the sum of the
typed ``gres/gpu:<type>=N`` entries (sacct usually writes both, so they are never added).
GPU-hours = GPUs × ElapsedRaw / 3600, as a Decimal rounded to 0.000001.
Slurm writes local times without an offset: they are read in ``tz`` (default UTC).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_EVEN, Decimal

from inventory.usage.parsers._common import parse_datetime, to_text
from inventory.usage.parsers.errors import ErrorCollector
from inventory.usage.parsers.records import SlurmJob

__all__ = ["SlurmJob", "parse_sacct"]

GPU_HOURS_QUANTUM = Decimal("0.000001")
REQUIRED = ("Account", "User", "Start", "End", "ElapsedRaw", "AllocTRES")
_NO_TIME = {"", "Unknown", "None"}
# A job step: "<job>.<step>" where the step is a number or batch/extern/interactive.
_STEP = re.compile(r"^(?P<job>[^.]+)\.(?P<step>.+)$")
_GRES_GPU = re.compile(r"^gres/gpu(?::(?P<type>[^=]+))?$")


def _parse_tres(tres: str) -> tuple[int, dict[str, int]]:
    untyped: int | None = None
    typed: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in tres.split(","))):
        key, sep, value = item.partition("=")
        match = _GRES_GPU.match(key)
        if not match:
            continue
        if not sep or not value.isdigit():
            raise ValueError(f"AllocTRES {item!r}: GPU count is not a whole number")
        count = int(value)
        if match["type"]:
            typed[match["type"]] = typed.get(match["type"], 0) + count
        else:
            untyped = count
    total = untyped if untyped is not None else sum(typed.values())
    return total, typed


def _time(value: str, field: str, tz: dt.tzinfo) -> dt.datetime | None:
    value = value.strip()
    if value in _NO_TIME:
        return None
    return parse_datetime(value, field, default_tz=tz)


def parse_sacct(text: str | bytes, tz: dt.tzinfo = dt.UTC) -> list[SlurmJob]:
    """Parse ``sacct -P`` output. Job steps (``123.batch``, ``123.0``…) are skipped when their
    job's own record is present; a job known only through steps is kept as its longest-GPU-hour
    step."""
    errors = ErrorCollector("sacct")
    lines = to_text(text).splitlines()
    header_index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_index is None:
        errors.add(1, "empty input: expected a header row")
        errors.raise_if_any()
    header = lines[header_index].rstrip("\r\n").split("|")
    trailing_pipe = header[-1] == ""  # `sacct -p` ends every line with a pipe
    if trailing_pipe:
        header = header[:-1]
    columns = {name.strip(): i for i, name in enumerate(header)}
    id_column = "JobIDRaw" if "JobIDRaw" in columns else "JobID"
    missing = [name for name in (id_column, *REQUIRED) if name not in columns]
    if missing:
        errors.add(header_index + 1, f"header lacks column(s): {', '.join(missing)}")
        errors.raise_if_any()

    jobs: list[SlurmJob] = []
    for number, raw in enumerate(lines[header_index + 1 :], start=header_index + 2):
        if not raw.strip():
            continue
        fields = raw.split("|")
        if trailing_pipe and fields and fields[-1] == "":
            fields = fields[:-1]
        if len(fields) != len(header):
            errors.add(number, f"expected {len(header)} fields, found {len(fields)}")
            continue

        def get(name: str, _fields=fields) -> str:
            index = columns.get(name)
            return _fields[index].strip() if index is not None else ""

        job_id = get(id_column)
        line_errors: list[str] = []
        if not job_id:
            line_errors.append(f"{id_column} is empty")
        elapsed = 0
        raw_elapsed = get("ElapsedRaw")
        if raw_elapsed.isdigit():
            elapsed = int(raw_elapsed)
        else:
            line_errors.append(f"ElapsedRaw {raw_elapsed!r} is not a whole number of seconds")
        start = end = None
        try:
            start = _time(get("Start"), "Start", tz)
        except ValueError as exc:
            line_errors.append(str(exc))
        try:
            end = _time(get("End"), "End", tz)
        except ValueError as exc:
            line_errors.append(str(exc))
        if start and end and end < start:
            line_errors.append("End is before Start")
        gpus, typed = 0, {}
        try:
            gpus, typed = _parse_tres(get("AllocTRES"))
        except ValueError as exc:
            line_errors.append(str(exc))
        for message in line_errors:
            errors.add(number, message)
        if line_errors:
            continue

        step = _STEP.match(job_id)
        jobs.append(
            SlurmJob(
                job_id=job_id,
                account=get("Account"),
                wckey=get("WCKey"),
                user=get("User"),
                start=start,
                end=end,
                elapsed_seconds=elapsed,
                gpus=gpus,
                gpu_type=next(iter(typed)) if len(typed) == 1 else "",
                gpu_types=typed,
                gpu_hours=(Decimal(gpus * elapsed) / 3600).quantize(
                    GPU_HOURS_QUANTUM, rounding=ROUND_HALF_EVEN
                ),
                job_name=get("JobName"),
                cluster=get("Cluster"),
                partition=get("Partition"),
                state=get("State"),
                node_list=get("NodeList"),
                is_step=step is not None,
                line=number,
            )
        )
    errors.raise_if_any()
    return _drop_steps(jobs)


def _drop_steps(jobs: list[SlurmJob]) -> list[SlurmJob]:
    parents = {job.job_id for job in jobs if not job.is_step}
    best_step: dict[str, SlurmJob] = {}
    for job in jobs:
        if not job.is_step:
            continue
        parent = _STEP.match(job.job_id)["job"]
        if parent in parents:
            continue
        current = best_step.get(parent)
        if current is None or job.gpu_hours > current.gpu_hours:
            best_step[parent] = job
    kept = {id(job) for job in best_step.values()}
    return [job for job in jobs if not job.is_step or id(job) in kept]
