"""The GPU catalogue's reference data: ``data/gpu_reference.csv`` (memory, public on-demand
price with its source and date) plus the names monitoring reports for each GPU and its MIG
profiles. Seeded by migration 0005 and by ``seed_demo``; admins edit it afterwards (it is
guidance, never billing truth: imported FOCUS ``EffectiveCost`` always wins)."""

from __future__ import annotations

import csv
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

REFERENCE_CSV = Path(__file__).resolve().parent / "data" / "gpu_reference.csv"

# DCGM ``modelName`` strings (nvidia-smi / NVML product names) per catalogue entry.
MONITORING_NAMES: dict[str, list[str]] = {
    "H100 80GB": ["NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe", "NVIDIA H100 NVL"],
    "H200 141GB": ["NVIDIA H200", "NVIDIA H200 NVL"],
    "A100 40GB": ["NVIDIA A100-SXM4-40GB", "NVIDIA A100-PCIE-40GB"],
    "A100 80GB": ["NVIDIA A100-SXM4-80GB", "NVIDIA A100 80GB PCIe"],
    "L4": ["NVIDIA L4"],
    "A10G": ["NVIDIA A10G"],
    "T4": ["Tesla T4"],
    "V100 16GB": ["Tesla V100-SXM2-16GB", "Tesla V100-PCIE-16GB"],
    "V100 32GB": ["Tesla V100-SXM2-32GB", "Tesla V100-PCIE-32GB", "Tesla V100S-PCIE-32GB"],
    "P100 16GB": ["Tesla P100-PCIE-16GB", "Tesla P100-SXM2-16GB"],
    "A10": ["NVIDIA A10"],
    "L40S": ["NVIDIA L40S"],
    "MI300X": ["AMD Instinct MI300X"],
}

# MIG profiles (NVIDIA MIG user guide); "<g>g.<mem>gb" uses g of the GPU's 7 compute slices.
MIG_PROFILES: dict[str, list[str]] = {
    "H100 80GB": ["1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"],
    "H200 141GB": ["1g.18gb", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"],
    "A100 40GB": ["1g.5gb", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"],
    "A100 80GB": ["1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"],
}
MIG_SLICES = 7


def mig_fraction(profile: str) -> Fraction:
    """The share of a whole GPU a MIG profile uses: ``"3g.40gb"`` → 3/7; 1 when unknown."""
    head = (profile or "").split(".", 1)[0]
    if head.endswith("g") and head[:-1].isdigit():
        return Fraction(min(int(head[:-1]), MIG_SLICES), MIG_SLICES)
    return Fraction(1)


def _decimal(text: str) -> Decimal | None:
    text = (text or "").strip()
    return Decimal(text) if text else None


def reference_rows() -> list[dict]:
    """The catalogue entries from the reference CSV, as GPUType field values."""
    rows = []
    with REFERENCE_CSV.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            name = row["gpu_model"].strip()
            gpus = (row["gpus_per_instance"] or "").strip()
            rows.append(
                {
                    "name": name,
                    "vendor": row["vendor"].strip(),
                    "memory_gb": int(row["memory_gib"])
                    if (row["memory_gib"] or "").strip()
                    else None,
                    "reference_hourly_price": _decimal(row["usd_per_gpu_hour"]),
                    "currency": "USD",
                    "price_source": " · ".join(
                        part
                        for part in (row["source"], row["pricing"], row["region"])
                        if part and part.strip()
                    ),
                    "price_as_of": (row["as_of"] or "").strip(),
                    "example_instance": (row["example_instance"] or "").strip(),
                    "gpus_per_instance": int(gpus) if gpus else None,
                    "instance_hourly_price": _decimal(row["instance_usd_per_hour"]),
                    "monitoring_names": MONITORING_NAMES.get(name, []),
                    "mig_profiles": MIG_PROFILES.get(name, []),
                }
            )
    return rows


def seed_catalogue(gpu_type_model) -> tuple[int, int]:
    """Create missing catalogue entries and fill empty fields of existing ones (an admin's
    edits are kept). ``gpu_type_model`` is ``GPUType`` or its historical migration model.
    Returns (created, updated)."""
    created = updated = 0
    for row in reference_rows():
        name = row.pop("name")
        existing = gpu_type_model.objects.filter(name=name).first()
        if existing is None:
            gpu_type_model.objects.create(name=name, **row)
            created += 1
            continue
        changed = [
            field
            for field, value in row.items()
            if value not in (None, "", []) and getattr(existing, field) in (None, "", [])
        ]
        for field in changed:
            setattr(existing, field, row[field])
        if changed:
            existing.save(update_fields=changed)
            updated += 1
    return created, updated


def gpu_type_for_monitoring_name(name: str, gpu_types) -> object | None:
    """The catalogue entry whose monitoring names include ``name`` (case-insensitive)."""
    wanted = (name or "").strip().lower()
    if not wanted:
        return None
    for gpu_type in gpu_types:
        if wanted in (alias.lower() for alias in gpu_type.monitoring_names or []):
            return gpu_type
    return None
