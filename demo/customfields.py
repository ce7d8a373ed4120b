"""The demo's custom fields (issue 20): three things a bank tracks that Keel does not know —
the cost centre an initiative is booked to, whether it is in SOX scope (required before
production, so its absence blocks a production gate) and the regulator's reference of a
notified system — with values on the demo's initiatives. Idempotent: definitions are made
once and only initiatives without a value get one."""

import random

from core.models import CustomFieldDefinition
from demo.data import SCALE_EXTERNAL_PREFIX, SEED
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Initiative

DEFINITIONS = (
    {
        "name": "cost_centre",
        "label": "Cost centre",
        "field_type": "text",
        "help_text": "The finance cost centre the initiative's spend is booked to.",
        "order": 1,
    },
    {
        "name": "sox_scope",
        "label": "SOX scope",
        "field_type": "boolean",
        "required": "from_stage",
        "required_from_stage": "production",
        "help_text": "Does it feed financial reporting (Sarbanes-Oxley section 404 controls)?",
        "order": 2,
    },
    {
        "name": "regulator_reference",
        "label": "Regulator reference",
        "field_type": "text",
        "help_text": "The reference a regulator gave the notified system, if any.",
        "order": 3,
    },
)
# From pilot on every demo initiative states its SOX scope, so no demo gate is newly blocked.
STATED_FROM = (Stage.PILOT, Stage.PRODUCTION, Stage.SCALED, Stage.PAUSED, Stage.RETIRED)
# Units whose systems feed financial reporting (loan books, claims reserves, capital).
SOX_UNITS = ("RETAIL", "COMM", "INSURE", "RISK")


def seed_custom_fields() -> dict[str, int]:
    created = 0
    for spec in DEFINITIONS:
        _, made = CustomFieldDefinition.objects.get_or_create(
            entity="initiative", name=spec["name"], defaults=spec
        )
        created += made
    rng = random.Random(f"{SEED}:custom-fields")
    changed = []
    rows = (
        Initiative.objects.filter(custom_fields={}, external_id__startswith="demo-")
        .exclude(external_id__startswith=SCALE_EXTERNAL_PREFIX)
        .order_by("reference")
    )
    for initiative in rows.select_related("business_unit"):
        unit = initiative.business_unit
        values = {"cost_centre": unit.cost_centre or f"CC-{unit.code}-{rng.randint(100, 999)}"}
        if initiative.stage in STATED_FROM:
            values["sox_scope"] = unit.code.upper() in SOX_UNITS or rng.random() < 0.2
        if initiative.stage in (Stage.PRODUCTION, Stage.SCALED) and rng.random() < 0.35:
            values["regulator_reference"] = (
                f"FCA-AI-{2025 + rng.randint(0, 1)}-{rng.randint(100, 999)}"
            )
        initiative.custom_fields = values
        changed.append(initiative)
    Initiative.objects.bulk_update(changed, ["custom_fields"], batch_size=500)
    return {"custom fields": created, "initiatives with custom values": len(changed)}
