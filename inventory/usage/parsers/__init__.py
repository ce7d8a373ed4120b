"""Pure parsers for GPU usage and cost ingest (issue 7, items 4–5).

No database access: each parser turns a whole file into plain dataclasses, or raises one
:class:`~inventory.ingest.errors.ParseError` listing every bad line, so an ingest engine can
validate first and bulk-insert after.
"""

from inventory.usage.parsers.dcgm import parse_prometheus_text, parse_query_range_json
from inventory.usage.parsers.errors import ParseError
from inventory.usage.parsers.focus import parse_focus_csv
from inventory.usage.parsers.opencost import parse_opencost_allocation
from inventory.usage.parsers.pods import parse_pods
from inventory.usage.parsers.records import CostLine, GpuSample, PodUsage, SlurmJob, UsageRow
from inventory.usage.parsers.slurm import parse_sacct
from inventory.usage.parsers.usage_csv import parse_usage_csv

__all__ = [
    "CostLine",
    "GpuSample",
    "ParseError",
    "PodUsage",
    "SlurmJob",
    "UsageRow",
    "parse_focus_csv",
    "parse_opencost_allocation",
    "parse_pods",
    "parse_prometheus_text",
    "parse_query_range_json",
    "parse_sacct",
    "parse_usage_csv",
]
