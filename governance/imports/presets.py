"""Import presets: the built-in ``keel`` and US federal ones (``us-federal-2023``, ``-2024``,
``-2025`` and ``-2025-cots``), plus the ``ImportPreset`` rows people save from the mapping
step or the command line (a name, the built-in it starts from, a mapping, options with value
maps).

A preset gives (1) the mapping suggested for a file's headers and (2) the rule of the stable
external id that makes a re-import update instead of duplicating:

- ``keel``: the ``External ID`` column, else the initiative's reference;
- the federal ones: ``options["id_column"]`` when set, else the file's use case id (2025),
  else agency + use case name
  (``"<agency-slug>/<use-case-slug>"``); an initiative registered before it had that id is
  still matched by business unit and title.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from governance.imports import federal
from governance.imports.fields import BY_NAME, KEEL_FIELDS, custom_targets, normalise

KEEL = "keel"
US_FEDERAL = "us-federal-2024"
US_FEDERAL_2023 = "us-federal-2023"
US_FEDERAL_2025 = "us-federal-2025"
US_FEDERAL_2025_COTS = "us-federal-2025-cots"
BUILT_IN = (KEEL, US_FEDERAL_2023, US_FEDERAL, US_FEDERAL_2025, US_FEDERAL_2025_COTS)
DESCRIPTIONS = {
    KEEL: "Keel export format",
    US_FEDERAL_2023: "US federal AI use-case inventory (2023, EO 13960)",
    US_FEDERAL: "US federal AI use-case inventory (2024, OMB M-24-10)",
    US_FEDERAL_2025: "US federal AI use-case inventory (2025, OMB M-25-21)",
    US_FEDERAL_2025_COTS: "US federal commercial AI (COTS) inventory (2025)",
}

# The keel export's header: one column per field, labelled as the field.
KEEL_COLUMNS = {field.label: field.name for field in KEEL_FIELDS}

FEDERAL_COLUMNS = dict(federal.COLUMNS_2024)
FEDERAL_2023_COLUMNS = dict(federal.COLUMNS_2023)
FEDERAL_2025_COLUMNS = {
    **federal.COLUMNS_2025,
    **{
        header: federal.COLUMNS_2025[name]
        for header, name in federal.EXCEL_HEADERS_2025.items()
        if name in federal.COLUMNS_2025
    },
}
FEDERAL_2025_COTS_COLUMNS = dict(federal.COLUMNS_COTS)
# Every federal preset identifies rows the federal way (``US_FEDERAL`` is that rule's name).
_BUILT_IN_PRESETS = {
    KEEL: (KEEL, KEEL_COLUMNS, {}),
    US_FEDERAL_2023: (US_FEDERAL, FEDERAL_2023_COLUMNS, {}),
    US_FEDERAL: (US_FEDERAL, FEDERAL_COLUMNS, {}),
    US_FEDERAL_2025: (US_FEDERAL, FEDERAL_2025_COLUMNS, {}),
    # every COTS row is a commercial product in use at the agency
    US_FEDERAL_2025_COTS: (US_FEDERAL, FEDERAL_2025_COTS_COLUMNS, {}),
}

# Header words people use for each field (compared normalised).
SYNONYMS = {
    "external_id": ["id", "use case id", "inventory id", "external id", "source id", "key"],
    "reference": ["keel reference", "ref"],
    "title": ["name", "use case", "use case name", "initiative", "initiative name", "project"],
    "business_unit": ["bu", "department", "agency", "unit", "division", "business unit code"],
    "child_business_unit": ["bureau", "sub unit", "subunit", "office", "team"],
    "problem_statement": ["problem", "problem statement", "need"],
    "purpose": ["purpose", "benefits", "intended purpose", "description", "summary"],
    "outputs": ["outputs", "ai outputs", "output"],
    "category": ["category", "topic area", "use case topic area", "type of use case"],
    "stage": ["stage", "status", "stage of development", "lifecycle stage", "phase of development"],
    "initiated_on": ["date initiated", "start date", "started", "initiated"],
    "pilot_started_on": ["pilot start", "pilot date"],
    "production_on": ["date implemented", "go live", "go-live date", "production date", "live"],
    "retired_on": ["date retired", "retirement date", "end date", "decommissioned"],
    "accountable_owner": ["owner", "accountable owner", "business owner", "contact", "poc"],
    "technical_lead": ["tech lead", "technical lead", "lead engineer", "developer"],
    "executive_sponsor": ["sponsor", "executive sponsor", "executive"],
    "uses_pii": ["pii", "personal data", "uses personal data", "involves pii"],
    "sourcing": ["developed", "sourcing", "in house or contract", "developed by", "vendor"],
    "impact": ["impact", "rights safety impacting", "rights or safety impacting"],
    "tags": ["tags", "keywords", "labels"],
    "models": ["models", "model", "ai models", "model names"],
    "deployments": ["deployed in", "deployments", "deployed to", "used by"],
}


@dataclass(frozen=True)
class Preset:
    name: str
    base: str  # KEEL or US_FEDERAL: the rule of the stable external id
    mapping: dict[str, str] = field(default_factory=dict)
    options: dict = field(default_factory=dict)


def get_preset(name: str) -> Preset:
    """The built-in preset or the saved ``ImportPreset`` of that name."""
    if name in _BUILT_IN_PRESETS:
        base, mapping, options = _BUILT_IN_PRESETS[name]
        return Preset(name, base, dict(mapping), dict(options))
    from governance.imports.models import ImportPreset

    saved = ImportPreset.objects.filter(name=name).first()
    if saved is None:
        raise ValidationError(
            {"preset": f"Unknown preset '{name}': use {', '.join(BUILT_IN)} or a saved preset."}
        )
    base = saved.base if saved.base in BUILT_IN else KEEL
    return Preset(saved.name, base, dict(saved.mapping), dict(saved.options))


def preset_names() -> list[str]:
    from governance.imports.models import ImportPreset

    return [*BUILT_IN, *ImportPreset.objects.values_list("name", flat=True)]


def suggest_mapping(headers, preset: Preset) -> dict[str, str]:
    """Header → field name ("" = ignored): the preset's exact header, then its headers and the
    field labels compared normalised, then the synonyms. A field is suggested once."""
    exact = dict(preset.mapping)
    by_normalised = {}
    for header, name in [*exact.items(), *KEEL_COLUMNS.items()]:
        by_normalised.setdefault(normalise(header), name)
    for name in BY_NAME:
        by_normalised.setdefault(normalise(name), name)
    custom = custom_targets()
    for name, definition in custom.items():
        by_normalised.setdefault(normalise(definition.label), name)
        by_normalised.setdefault(normalise(name), name)
    by_synonym = {}
    for name, words in SYNONYMS.items():
        for word in words:
            by_synonym.setdefault(normalise(word), name)

    suggested, taken = {}, set()
    passes = (
        lambda header: exact.get(header),
        lambda header: by_normalised.get(normalise(header)),
        lambda header: by_synonym.get(normalise(header)),
    )
    for rule in passes:
        for header in headers:
            if header in suggested:
                continue
            name = rule(header)
            if name and (name in BY_NAME or name in custom) and name not in taken:
                suggested[header] = name
                taken.add(name)
    return {header: suggested.get(header, "") for header in headers}
