"""The Keel fields an import column can map to, and the parser of each cell.

A parser gets a non-empty, cleaned cell and returns the Keel value or raises
:class:`FieldError` with the reason the row is rejected. What an *empty* cell means is the
field's ``blank`` rule:

- ``"clear"``: the field is emptied ("" or no date / no person), so a Keel export whose cell
  is empty round-trips;
- ``"keep"``: nothing is written (an update leaves the field alone, a new initiative gets
  Keel's default), for fields where an empty cell means "not stated" (stage, yes/no answers,
  enumerations, the accountable owner, the additive lists of models and deployments).

Look-ups against the database (business units, people, models) are done in bulk by the
engine; their parsers here only normalise the text.
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from dateutil import parser as dateparser

from governance.imports import federal
from portfolio.initiatives.choices import (
    AIType,
    AutonomyLevel,
    DataSensitivity,
    EUAIActRole,
    Sourcing,
    Stage,
    UseCaseCategory,
)
from portfolio.initiatives.models import is_web_link


class FieldError(ValueError):
    """A cell Keel cannot read; the message is the reason shown beside the row's line."""


def normalise(text: str) -> str:
    """For matching: Unicode compatibility form without accents, case folded, letters and
    digits only, so "In production" == " in-production", "Ｄｅｐｔ." == "dept" and
    "Département" == "departement"."""
    return "".join(
        char for char in unicodedata.normalize("NFKD", text.casefold()) if char.isalnum()
    )


# Cells that say "not known" rather than give a value (compared normalised; a cell of only
# punctuation, e.g. "-" or "?", is one too). In an optional field they make it unknown.
PLACEHOLDERS = frozenset(
    normalise(text)
    for text in (
        "N/A",
        "NA",
        "TBD",
        "TBC",
        "To be determined",
        "Unknown",
        "Not known",
        "Not applicable",
        "Not available",
        "Not provided",
        "Not reported",
        "Pending",
        "Null",
    )
)


def is_placeholder(value: str) -> bool:
    key = normalise(value)
    return key == "" or key in PLACEHOLDERS


# Dates outside [EARLIEST_DATE, today + FUTURE_YEARS] are spreadsheet artefacts (1905-07-16 is
# the serial 2024 read as a date), not facts.
EARLIEST_DATE = datetime.date(1950, 1, 1)
FUTURE_YEARS = 10


def plausible_date(value: datetime.date) -> bool:
    today = datetime.date.today()
    return EARLIEST_DATE <= value <= today.replace(year=today.year + FUTURE_YEARS, day=1)


# --- value parsers ----------------------------------------------------------------------------


def parse_text(value: str) -> str:
    return value


def _choices(choice_class, synonyms=None) -> dict[str, str]:
    table = {}
    for value, label in choice_class.choices:
        table[normalise(value)] = value
        table[normalise(str(label))] = value
    for text, value in (synonyms or {}).items():
        table[normalise(text)] = value
    return table


STAGE_TABLE = _choices(Stage, federal.STAGE_SYNONYMS)
CATEGORY_TABLE = _choices(
    UseCaseCategory,
    {
        "Synthesis": UseCaseCategory.INFORMATION_SYNTHESIS,
        "Summarisation": UseCaseCategory.INFORMATION_SYNTHESIS,
        "Summarization": UseCaseCategory.INFORMATION_SYNTHESIS,
        "Search": UseCaseCategory.INFORMATION_SYNTHESIS,
        "Pattern detection": UseCaseCategory.PATTERN_RECOGNITION,
        "Anomaly detection": UseCaseCategory.PATTERN_RECOGNITION,
        "Fraud detection": UseCaseCategory.PATTERN_RECOGNITION,
        "Computer vision": UseCaseCategory.PATTERN_RECOGNITION,
        "Decisions": UseCaseCategory.HIGH_VOLUME_DECISIONS,
        "Decision support": UseCaseCategory.HIGH_VOLUME_DECISIONS,
        "Automation": UseCaseCategory.HIGH_VOLUME_DECISIONS,
        "Content generation": UseCaseCategory.GENERATION,
        "Generative AI": UseCaseCategory.GENERATION,
    },
)
SOURCING_TABLE = _choices(
    Sourcing,
    {
        **federal.SOURCING_SYNONYMS,
        "Developed in-house": Sourcing.IN_HOUSE,
        "In house": Sourcing.IN_HOUSE,
        "Internal": Sourcing.IN_HOUSE,
        "Developed with contracting resources": Sourcing.VENDOR,
        "Developed under contract": Sourcing.VENDOR,
        "Contract": Sourcing.VENDOR,
        "Contractor": Sourcing.VENDOR,
        "Commercial": Sourcing.VENDOR,
        "Purchased": Sourcing.VENDOR,
        "Developed in-house and with contracting resources": Sourcing.BOTH,
        "Developed both in-house and under contract": Sourcing.BOTH,
        "In-house and contract": Sourcing.BOTH,
    },
)
YES = {"yes", "y", "true", "1", "x", "oui", "ja"}
NO = {"no", "n", "false", "0", "non", "nein", "none"}

# Impact → the risk questionnaire's answers it sets (``neither`` sets none).
IMPACT_RIGHTS, IMPACT_SAFETY = "rights_impacting", "safety_impacting"
# M-25-21 "high-impact": rights- or safety-impacting (the engine resolves it against the
# current answers, ``engine._impact_answers``).
IMPACT_HIGH = "high_impact"
IMPACT_TABLE = {
    "rightsimpacting": (IMPACT_RIGHTS,),
    "rights": (IMPACT_RIGHTS,),
    "safetyimpacting": (IMPACT_SAFETY,),
    "safety": (IMPACT_SAFETY,),
    "both": (IMPACT_RIGHTS, IMPACT_SAFETY),
    "rightsandsafetyimpacting": (IMPACT_RIGHTS, IMPACT_SAFETY),
    "rightsimpactingandsafetyimpacting": (IMPACT_RIGHTS, IMPACT_SAFETY),
    "safetyandrightsimpacting": (IMPACT_RIGHTS, IMPACT_SAFETY),
    "neither": (),
    # 2025 is_high_impact (M-25-21) and its shorthand
    normalise(federal.HIGH_IMPACT): (IMPACT_HIGH,),
    normalise(federal.PRESUMED_NOT_HIGH_IMPACT): (),
    normalise("Presumed High-Impact, but Not High-impact"): (),
    normalise(federal.NOT_HIGH_IMPACT): (),
    "none": (),
    "no": (),
    "notapplicable": (),
    "na": (),
}
# Written by both exports; read back through IMPACT_TABLE.
IMPACT_LABELS = {
    (): "Neither",
    (IMPACT_RIGHTS,): "Rights-impacting",
    (IMPACT_SAFETY,): "Safety-impacting",
    (IMPACT_RIGHTS, IMPACT_SAFETY): "Both",
}


LETTER_PREFIX = re.compile(r"^\s*[a-z]\)\s*", re.IGNORECASE)
DEFINITION = re.compile(r"\s+[–—-]\s+|:\s")


def lookup(table: dict, value: str):
    """A dictionary answer in ``table``: as written, without its letter ("a) "), or without
    the definition that follows " – " or ":" ("Pilot – The use case has been deployed…",
    "Agentic AI: AI systems that…"). None when none of these is in the table."""
    candidates = [value, LETTER_PREFIX.sub("", value)]
    candidates.append(DEFINITION.split(candidates[-1], maxsplit=1)[0])
    for candidate in candidates:
        found = table.get(normalise(candidate))
        if found is not None:
            return found
    return None


def enumeration(table: dict[str, str], what: str):
    def parse(value: str) -> str:
        found = lookup(table, value)
        if found is None:
            raise FieldError(f"unknown {what} '{value}'")
        return found

    return parse


def parse_category(value: str) -> str:
    """A use-case category; a topic area Keel has no category for becomes "other"."""
    return lookup(CATEGORY_TABLE, value) or UseCaseCategory.OTHER


def parse_topic(value: str) -> str:
    """A publisher's topic area, kept as written (the engine stores it as a tag)."""
    return LETTER_PREFIX.sub("", value).replace(",", " ").strip()


def parse_yes_no(value: str) -> bool:
    text = value.strip().casefold().rstrip(".")
    # "Yes – …" / "No, …" answers with an explanation; "Not applicable" is not a "no"
    if text in YES or re.match(r"yes\b", text):
        return True
    if text in NO or re.match(r"no\b", text):
        return False
    raise FieldError(f"'{value}' is not yes or no")


def parse_impact(value: str) -> tuple[str, ...]:
    found = lookup(IMPACT_TABLE, value)
    if found is None and normalise(value).startswith("nousecaseistoonew"):
        found = ()  # 2024: "No, use case is too new to fully assess impacts…": not yet known
    if found is None:
        raise FieldError(
            f"unknown impact '{value}' (rights-impacting, safety-impacting, both or neither)"
        )
    return found


def parse_decimal(value: str) -> Decimal:
    text = re.sub(r"[\s,$€£]", "", value)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise FieldError(f"'{value}' is not a number") from None
    if not number.is_finite() or number < 0:
        raise FieldError(f"'{value}' is not an amount of zero or more")
    return number.quantize(Decimal("0.01"))


def parse_phase(value: str) -> int:
    digits = re.sub(r"(?i)^phase\s*", "", value.strip())
    if digits not in {"1", "2", "3", "4"}:
        raise FieldError(f"roadmap phase '{value}' is not 1 to 4")
    return int(digits)


def parse_currency(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{3}", value):
        raise FieldError(f"currency '{value}' is not a three-letter code")
    return value.upper()


def parse_list(value: str) -> list[str]:
    """A semicolon-separated list (also accepts newlines folded into spaces by the reader)."""
    items, seen = [], set()
    for item in value.split(";"):
        item = item.strip()
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            items.append(item)
    return items


def parse_tags(value: str) -> str:
    tags = [tag.strip() for tag in re.split(r"[,;]", value) if tag.strip()]
    return ",".join(dict.fromkeys(tags))


def parse_web_link(value: str) -> str:
    """One http(s) address: other schemes (javascript:, data:) must never become links."""
    link = value.strip()
    if not is_web_link(link):
        raise FieldError(f"'{value}' is not an http(s) address")
    return link


MONTH_YEAR = re.compile(r"^[A-Za-z]{3,9}\.?\s+\d{4}$")
ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")


def parse_date(value: str) -> datetime.date:
    """10/1/2023 (US month/day/year), 2023-10-01, Oct 2023 (the 1st), 1 Oct 2023, October 1,
    2023. Two-digit years and bare years are refused as ambiguous."""
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}[ T]00:00(:00)?", text):
        text = text[:10].strip()
    slashed = SLASHED.match(text)
    if slashed and len(slashed.group(3)) == 2:
        raise FieldError(f"ambiguous date '{value}': write the year with four digits")
    try:
        if ISO.match(text):
            return datetime.date(*map(int, text.split("-")))
        if slashed:
            month, day, year = slashed.groups()
            return datetime.date(int(year), int(month), int(day))
    except ValueError:
        raise FieldError(
            f"'{value}' is not a valid date (dates with slashes are month/day/year)"
        ) from None
    if re.fullmatch(r"\d{4}", text):
        raise FieldError(f"ambiguous date '{value}': a year alone is not a date")
    if not re.search(r"\d{4}", text) or not re.search(r"[A-Za-z]", text):
        raise FieldError(f"'{value}' is not a date Keel can read (use 2023-10-01)")
    try:
        parsed = dateparser.parse(text, default=datetime.datetime(2000, 1, 1), dayfirst=False)
    except (ValueError, OverflowError):
        raise FieldError(f"'{value}' is not a date Keel can read (use 2023-10-01)") from None
    if MONTH_YEAR.match(text):
        return parsed.date().replace(day=1)
    return parsed.date()


# --- the target fields ------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    parse: object = parse_text
    required: bool = False
    help: str = ""
    blank: str = "clear"  # "clear" or "keep" (see the module docstring)
    # Where the value lands: "initiative" (a model field of the same name) or "special"
    # (resolved by the engine: look-ups, stage, impact, lists).
    target: str = "initiative"

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "required": self.required,
            "help": self.help,
        }


FIELDS: tuple[Field, ...] = (
    Field(
        "external_id",
        "External ID",
        help="Stable id in the source register; re-importing the file updates the same "
        "initiatives.",
    ),
    Field(
        "reference",
        "Reference",
        target="special",
        blank="keep",
        help="Keel reference (AI-0042): matches an existing initiative when there is no "
        "external id. Never changes a reference.",
    ),
    Field("title", "Title", required=True, help="The use case's name."),
    Field(
        "business_unit",
        "Business unit",
        required=True,
        target="special",
        help="Code or name of the owning business unit (the agency in federal files).",
    ),
    Field(
        "child_business_unit",
        "Sub-unit",
        target="special",
        blank="keep",
        help="A unit inside the business unit (the bureau in federal files); the initiative "
        "belongs to it.",
    ),
    Field("problem_statement", "Problem statement"),
    Field("purpose", "Purpose", help="Intended purpose and expected benefits."),
    Field("outputs", "Outputs", help="What the AI system outputs."),
    Field(
        "category",
        "Category",
        parse=parse_category,
        blank="keep",
        help="Use-case category or topic area; unknown areas become “Other”.",
    ),
    Field(
        "topic_area",
        "Topic area",
        parse=parse_topic,
        target="special",
        blank="keep",
        help="A publisher's topic area (“Health and Medical”…), kept as the tag “topic: <area>”.",
    ),
    Field(
        "stage",
        "Stage",
        parse=enumeration(STAGE_TABLE, "stage"),
        target="special",
        blank="keep",
        help="Keel stage or a federal stage of development (“Operation and Maintenance”…). "
        "Recorded as the file says, audited as imported.",
    ),
    Field("initiated_on", "Initiated on", parse=parse_date),
    Field("pilot_started_on", "Pilot started on", parse=parse_date),
    Field("production_on", "In production since", parse=parse_date),
    Field("retired_on", "Retired on", parse=parse_date),
    Field(
        "operational_on",
        "Operational since (or pilot start)",
        parse=parse_date,
        target="special",
        blank="keep",
        help="2025 federal “operational date”: the pilot's start for a pilot, else the date "
        "it went into production.",
    ),
    Field(
        "in_use",
        "In use (Y/N)",
        parse=parse_yes_no,
        target="special",
        blank="keep",
        help="Rows answered “no” are skipped (the federal COTS file lists every product "
        "category, used or not).",
    ),
    Field(
        "accountable_owner",
        "Accountable owner",
        target="special",
        blank="keep",
        help="Username, e-mail or “First Last”; unknown people become placeholders to confirm.",
    ),
    Field("technical_lead", "Technical lead", target="special"),
    Field("executive_sponsor", "Executive sponsor", target="special"),
    Field("uses_pii", "Uses PII", parse=parse_yes_no, blank="keep"),
    Field(
        "data_sensitivity",
        "Data sensitivity",
        parse=enumeration(_choices(DataSensitivity), "data sensitivity"),
        blank="keep",
    ),
    Field(
        "sourcing",
        "Developed",
        parse=enumeration(SOURCING_TABLE, "sourcing"),
        blank="keep",
        help="In-house, vendor (under contract) or both.",
    ),
    Field(
        "ai_type",
        "AI type",
        parse=enumeration(_choices(AIType, federal.AI_TYPE_SYNONYMS), "AI type"),
        blank="keep",
        help="Keel's AI type or the 2025 federal AI classification (“Agentic AI”…).",
    ),
    Field(
        "autonomy_level",
        "Autonomy",
        parse=enumeration(_choices(AutonomyLevel), "autonomy level"),
        blank="keep",
    ),
    Field(
        "eu_ai_act_role",
        "EU AI Act role",
        parse=enumeration(_choices(EUAIActRole), "EU AI Act role"),
    ),
    Field(
        "impact",
        "Rights/safety impact",
        parse=parse_impact,
        target="special",
        blank="keep",
        help="Rights-impacting, safety-impacting, both or neither: sets the risk assessment's "
        "answers (at least Tier 3); never lowers an existing answer.",
    ),
    Field("roadmap_phase", "Roadmap phase", parse=parse_phase),
    Field("currency", "Currency", parse=parse_currency, blank="keep"),
    Field("expected_annual_value", "Expected annual value", parse=parse_decimal),
    Field("expected_annual_cost", "Expected annual cost", parse=parse_decimal),
    Field("realised_value", "Realised value", parse=parse_decimal),
    Field("realised_value_as_of", "Realised value as of", parse=parse_date),
    Field(
        "value_evidence_url",
        "Value evidence",
        parse=parse_web_link,
        help="An http(s) link to the measurement behind the realised value.",
    ),
    *(
        Field(
            name,
            f"M-25-21 practice: {label}",
            target="special",
            blank="keep",
            help="Kept in the rationale of the tier the import writes.",
        )
        for name, label in federal.PRACTICES_2025.values()
    ),
    Field("impacted_stakeholders", "Impacted stakeholders"),
    Field("jurisdictions", "Jurisdictions"),
    Field("tags", "Tags", parse=parse_tags, help="Comma-separated."),
    Field(
        "links",
        "Links",
        parse=lambda value: "\n".join(value.split()),
        help="http(s) addresses separated by spaces.",
    ),
    Field(
        "models",
        "Models",
        parse=parse_list,
        target="special",
        blank="keep",
        help="Semicolon-separated model names, linked (created in the business unit if new).",
    ),
    Field(
        "products",
        "Products",
        parse=lambda value: parse_list(value.replace(",", ";")),
        target="special",
        blank="keep",
        help="Comma- or semicolon-separated commercial products, linked as vendor models.",
    ),
    Field(
        "deployments",
        "Deployed in",
        parse=parse_list,
        target="special",
        blank="keep",
        help="Semicolon-separated codes of the business units where it is deployed.",
    ),
)
BY_NAME = {field.name: field for field in FIELDS}
# Read from federal files only: Keel keeps them elsewhere (a topic tag, the stage dates, the
# models, the tier's rationale), so the keel format neither writes nor needs them.
FEDERAL_ONLY = frozenset(
    {"topic_area", "operational_on", "in_use", "products"}
    | {name for name, _ in federal.PRACTICES_2025.values()}
)
KEEL_FIELDS = tuple(field for field in FIELDS if field.name not in FEDERAL_ONLY)
# Fields whose "not stated" is stored as unknown (displayed "unknown"), never as a default
# that would turn "not known" into a fact ("no PII", "in-house").
UNKNOWN_VALUES = {"uses_pii": None, "sourcing": ""}
REQUIRED = tuple(field.name for field in FIELDS if field.required)
# Model fields written as they are (the rest is resolved by the engine).
PLAIN = tuple(field.name for field in FIELDS if field.target == "initiative")
DATE_FIELDS = ("initiated_on", "pilot_started_on", "production_on", "retired_on")
# Every field holding a date, the special ones included.
ALL_DATE_FIELDS = (*DATE_FIELDS, "operational_on", "realised_value_as_of")
TEXT_FIELDS = tuple(
    name for name in PLAIN if BY_NAME[name].parse in (parse_text,) or name in ("tags", "links")
)


def custom_targets() -> dict:
    """``cf_<name>`` → definition: the custom fields of initiatives, mapping targets beside
    Keel's own fields (values checked by ``core.customfields.coerce``)."""
    from core.customfields import definitions

    return {definition.key: definition for definition in definitions("initiative")}


def target_fields() -> list[dict]:
    custom = [
        {
            "name": definition.key,
            "label": definition.label,
            "required": False,
            "help": definition.help_text
            or f"Custom field ({definition.get_field_type_display()}).",
        }
        for definition in custom_targets().values()
    ]
    return [field.as_dict() for field in FIELDS] + custom
