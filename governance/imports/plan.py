"""What an import would do: a :class:`Plan` of one :class:`RowPlan` per row (create, update,
skip or reject, with its line and reason), and the field groups the engine and its
application (``governance.imports.apply``) share."""

import re
from dataclasses import dataclass, field

from governance.imports.fields import (
    DATE_FIELDS,
    PLAIN,
)
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.services import (
    INITIATIVE_FIELDS,
)

CREATE, UPDATE, SKIP, REJECT = "create", "update", "skip", "reject"

ACTIONS = (CREATE, UPDATE, SKIP, REJECT)


PLACEHOLDER_PREFIX = "placeholder-"

PEOPLE = ("accountable_owner", "technical_lead", "executive_sponsor")

FK_FIELDS = ("business_unit", *PEOPLE)

WHITESPACE_TEXT = {
    name
    for name in PLAIN
    if name not in DATE_FIELDS
    and name
    not in (
        "category",
        "uses_pii",
        "data_sensitivity",
        "sourcing",
        "ai_type",
        "autonomy_level",
        "eu_ai_act_role",
        "roadmap_phase",
        "currency",
        "expected_annual_value",
        "expected_annual_cost",
        "realised_value",
        "realised_value_as_of",
        "value_evidence_url",
    )
}

AUDITED_FIELDS = tuple(name for name in INITIATIVE_FIELDS) + ("owner_to_confirm",)


@dataclass
class RowPlan:
    line: int
    action: str = SKIP
    title: str = ""
    reference: str = ""
    reason: str = ""
    key: str = ""
    initiative: Initiative | None = None
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    stage: str | None = None  # set when the stage is written
    old_stage: str = ""
    impact: tuple = ()  # questionnaire keys to answer "yes"
    # the file answers the impact question and there is no assessment yet: a provisional
    # one is written from the answer ("from import, not yet assessed")
    impact_stated: bool = False
    current_assessment: object = None
    models: list = field(default_factory=list)  # AIModel (saved or pending) to link
    deployments: list = field(default_factory=list)  # BusinessUnit to deploy to
    warnings: list = field(default_factory=list)
    products: set = field(default_factory=set)  # casefolded names of commercial products
    practices: list = field(default_factory=list)  # "label: answer" of M-25-21 practices

    def as_dict(self) -> dict:
        return {
            "line": self.line,
            "action": self.action,
            "reference": self.reference,
            "title": self.title,
            "reason": self.reason,
            "changes": sorted(self.after),
        }


@dataclass
class Plan:
    rows: list[RowPlan]
    new_units: list = field(default_factory=list)
    new_people: list = field(default_factory=list)
    new_models: list = field(default_factory=list)
    filename: str = ""

    @property
    def counts(self) -> dict:
        counts = dict.fromkeys(ACTIONS, 0)
        for row in self.rows:
            counts[row.action] += 1
        return counts

    @property
    def warnings(self) -> list[dict]:
        return [
            {"line": row.line, "message": message} for row in self.rows for message in row.warnings
        ]

    def report(self, cap: int = 500) -> dict:
        """The dry run as plain data (``ImportJob.preview``); rejected rows always complete."""
        return {
            "counts": self.counts,
            "rows": [row.as_dict() for row in self.rows[:cap]],
            "rejected": [
                {"line": row.line, "reason": row.reason}
                for row in self.rows
                if row.action == REJECT
            ],
            "warnings": self.warnings[:cap],
            "new_units": [unit.name for unit in self.new_units],
            "new_people": [person.username for person in self.new_people],
            "new_models": [model.name for model in self.new_models],
        }


class Reject(Exception):
    pass


def text_equal(name, old, new) -> bool:
    if name == "tags":
        split = lambda text: [t.strip() for t in re.split(r"[,;]", text or "") if t.strip()]  # noqa: E731
        return split(old) == split(new)
    if name in WHITESPACE_TEXT:
        return " ".join((old or "").split()) == " ".join((new or "").split())
    return old == new
