"""The demo organisation behind ``manage.py seed_demo``, and large ones for benchmarks.

Contract of :func:`seed_demo`:

* Deterministic. Every choice comes from ``random.Random`` streams with fixed seeds, so two
  databases seeded on the same day hold the same organisation. Dates are offsets from the day
  of seeding so that the demo always looks current (allocations running, reviews falling due).
* Idempotent. Every row has a natural key: a business unit's code, a username, a vendor's,
  GPU type's or pool's name, an initiative's ``external_id`` (``demo-0001``,
  ``demo-scale-000001``), a model's (business unit, name) and a marker opening an allocation's
  notes (``[demo-alloc-0001]``). A run builds the whole plan, then inserts only the rows whose
  key is missing; children (stage history, deployments, versions, model links) are created
  only with their new parent. A second run creates nothing.
* Consistent. Stage histories follow ``STAGE_TRANSITIONS``; dates satisfy the check
  constraints (production on or after pilot start, retirement on or after initiation, an
  allocation ends on or after it starts); no pool is over-committed in the sense of
  ``inventory.gpu.services._check_capacity``.
* Fast. Rows go in with ``bulk_create`` in batches of 2,000, all in one transaction.
* Audited once. Bulk seeding is a system write: one ``demo.seeded`` audit event carries the
  counts (none when the run created nothing). References come from the ``initiative``
  sequence, reserved as one block, so initiatives registered later continue the numbering.

The builder is split by concern: the tables live in :mod:`demo.data`, the shared helpers and
:class:`~demo.building.SeedReport` in :mod:`demo.building`, models and allocations in
:class:`~demo.inventory.InventoryMixin` and the ``--scale`` organisation in
:class:`~demo.scale.ScaleMixin`; :class:`_Builder` here keeps people, units, catalogue,
initiatives, stage history and deployments.
"""

import random
import time as clock
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import DateTimeField
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.text import slugify

from core.audit import record_event
from core.choices import Role
from core.models import BusinessUnit, Membership
from core.services import sequence_next
from demo.approvals import seed_demo_approvals, seed_demo_delegation
from demo.building import SeedReport, _aware, _bulk, _CapacityLedger, _money, _username
from demo.customfields import seed_custom_fields
from demo.data import (
    AGE_DAYS,
    BASE_ALLOCATION_MARKER,
    BASE_ALLOCATIONS,
    BASE_EXTERNAL_ID,
    BASE_STAGE_MIX,
    BUSINESS_UNITS,
    CAPABILITIES,
    DEMO_PASSWORD,
    GATE_NAMES,
    GPU_TYPES,
    PATHS,
    PEOPLE,
    POOLS,
    PROBLEMS,
    ROLE_LOGINS,
    SEED,
    STAGE_REASONS,
    SUBJECTS,
    UNIT_PROFILES,
    UNIT_WEIGHTS,
    VENDORS,
    PoolSpec,
)
from demo.finops import seed_finops
from demo.incidents import seed_demo_incidents
from demo.inventory import InventoryMixin
from demo.risk import seed_risk_assessments
from demo.roadmap import seed_roadmap_and_barriers
from demo.scale import ScaleMixin
from inventory.gpu.catalogue import seed_catalogue
from inventory.gpu.models import GPUPool, GPUType
from inventory.registry.models import Vendor
from portfolio.initiatives.choices import (
    AIType,
    DataSensitivity,
    DeploymentStatus,
    EUAIActRole,
    Sourcing,
    Stage,
)
from portfolio.initiatives.models import Deployment, Initiative, StageChange, format_reference
from portfolio.initiatives.services import REFERENCE_SEQUENCE

# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def seed_demo(*, scale: int = 0) -> SeedReport:
    """Create whatever part of the demo organisation is missing and return what was done.

    ``scale`` adds a large organisation on top of the base demo: ``scale`` initiatives, about a
    third as many models, one and a half times as many GPU allocations, and the owners and
    pools they need. Runs in one transaction: a failure leaves nothing half-written.
    """
    if scale < 0:
        raise ValueError("scale must be zero or positive")
    started = clock.perf_counter()
    report = SeedReport(scale=scale)
    today = timezone.localdate()
    with transaction.atomic():
        builder = _Builder(report, today)
        builder.build_base()
        if scale:
            builder.build_scale(scale)
        else:
            # Through the services (real audit events); skipped for --scale bulk runs.
            report.created.update(seed_risk_assessments())
            report.created.update(seed_demo_approvals())
            report.created.update(seed_demo_delegation())
            report.created.update(seed_finops(today))
            report.created.update(seed_custom_fields())
            report.created.update(seed_demo_incidents(today))
        report.created.update(seed_roadmap_and_barriers(today))
        report.seconds = clock.perf_counter() - started
        if report.created_anything:
            record_event(
                actor=None,
                action="demo.seeded",
                object_type="system",
                object_id="seed_demo",
                after={
                    "scale": scale,
                    "created": dict(sorted(report.created.items())),
                    "skipped_allocations": report.skipped_allocations,
                },
            )
    return report


# ---------------------------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------------------------


class _Builder(ScaleMixin, InventoryMixin):
    """Holds the run's state (units, people, pools, ledger) while the plan is inserted."""

    def __init__(self, report: SeedReport, today: date):
        self.report = report
        self.today = today
        self.units: dict[str, BusinessUnit] = {}
        self.users: dict[str, object] = {}
        self.owners: dict[str, list[str]] = defaultdict(list)  # unit code -> usernames
        self.leads: dict[str, str] = {}
        self.gpu_types: dict[str, GPUType] = {}
        self.pools: dict[str, GPUPool] = {}
        self.vendors: dict[str, Vendor] = {}
        self._password = None
        self.ledger = _CapacityLedger()
        self._ledger_pools: set[int] = set()

    # -- organisation ------------------------------------------------------------------------

    def password(self) -> str:
        """One hash for every demo account: PBKDF2 costs about half a second per call and the
        password is public anyway."""
        if self._password is None:
            self._password = make_password(DEMO_PASSWORD)
        return self._password

    def build_base(self) -> None:
        """The base demo: units, people, catalogue, 120 initiatives, 40 models, 200 allocations."""
        self._business_units()
        self._people()
        self._catalogue()
        rng = random.Random(f"{SEED}:initiatives")
        stages = [stage for stage, count in BASE_STAGE_MIX.items() for _ in range(count)]
        rng.shuffle(stages)
        units = list(UNIT_WEIGHTS)
        weights = [UNIT_WEIGHTS[code] for code in units]
        used_titles: set[tuple[str, str]] = set()
        specs = []
        for index, stage in enumerate(stages, start=1):
            code = rng.choices(units, weights)[0]
            subject, capability = self._pick_subject(rng, code, used_titles)
            specs.append(
                self._initiative_spec(
                    rng, BASE_EXTERNAL_ID.format(index), stage, code, subject, capability, ""
                )
            )
        initiatives = self._insert_initiatives(specs, existing_ids=None)
        self._base_models(specs, initiatives)
        self._allocations(
            initiatives,
            count=BASE_ALLOCATIONS,
            marker=BASE_ALLOCATION_MARKER,
            width=4,
            pools=[self.pools[pool.name] for pool in POOLS],
            rng=random.Random(f"{SEED}:allocations"),
        )

    def _business_units(self) -> None:
        for code, name, cost_centre, parent in BUSINESS_UNITS:
            unit, created = BusinessUnit.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "cost_centre": cost_centre,
                    "parent": self.units.get(parent) if parent else None,
                },
            )
            self.units[code] = unit
            self._count("business_units", created)

    def _people(self) -> None:
        User = get_user_model()
        logins = []
        for login in ROLE_LOGINS:
            user, created = User.objects.get_or_create(
                username=login.username,
                defaults={
                    "first_name": login.first_name,
                    "last_name": login.last_name,
                    "email": f"{login.username}@keel-demo.example",
                    "password": self.password(),
                    "is_staff": login.role == Role.ADMIN,
                    "is_superuser": login.role == Role.ADMIN,
                },
            )
            self._count("users", created)
            self._grant(user, login.unit, login.role)
            self.users[login.username] = user
            logins.append((login, created))
            if login.role in (Role.BU_MEMBER, Role.BU_LEAD):
                self.owners[login.unit].append(login.username)
        self.report.logins = logins
        self.leads["RETAIL"] = "lead"
        for code, names in PEOPLE.items():
            for position, full_name in enumerate(names):
                first, last = full_name.split(" ", 1)
                username = _username(full_name)
                is_lead = position == 0 and code != "RETAIL"
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={
                        "first_name": first,
                        "last_name": last,
                        "email": f"{username}@keel-demo.example",
                        "password": self.password(),
                    },
                )
                self._count("users", created)
                self._grant(user, code, Role.BU_LEAD if is_lead else Role.BU_MEMBER)
                self.users[username] = user
                self.owners[code].append(username)
                if is_lead:
                    self.leads[code] = username
        for code, unit in self.units.items():
            if unit.head_id is None:
                unit.head = self.users[self.leads[code]]
                unit.save(update_fields=["head"])

    def _grant(self, user, code: str, role: str) -> None:
        _, created = Membership.objects.get_or_create(
            user=user, business_unit=self.units[code], role=role
        )
        self._count("memberships", created)

    def _count(self, key: str, created: bool) -> None:
        if created:
            self.report.created[key] += 1
        else:
            self.report.existing[key] += 1

    def _catalogue(self) -> None:
        seed_catalogue(GPUType)  # the reference catalogue; the demo's extra types below
        for vendor_name, name, memory, price in GPU_TYPES:
            gpu_type, created = GPUType.objects.get_or_create(
                name=name,
                defaults={
                    "vendor": vendor_name,
                    "memory_gb": memory,
                    "reference_hourly_price": Decimal(price),
                },
            )
            self.gpu_types[name] = gpu_type
            self._count("gpu_types", created)
        for name, website, description, diligence, days_ago in VENDORS:
            vendor, created = Vendor.objects.get_or_create(
                name=name,
                defaults={
                    "website": website,
                    "description": description,
                    "due_diligence_status": diligence,
                    "due_diligence_on": self.today - timedelta(days=days_ago)
                    if days_ago is not None
                    else None,
                    "dpa_signed": days_ago is not None,
                },
            )
            self.vendors[name] = vendor
            self._count("vendors", created)
        for spec in POOLS:
            self._pool(spec)

    def _pool(self, spec: PoolSpec) -> GPUPool:
        pool, created = GPUPool.objects.get_or_create(
            name=spec.name,
            defaults={
                "kind": spec.kind,
                "provider": spec.provider,
                "region": spec.region,
                "account": spec.account,
                "cluster": spec.cluster,
                "gpu_type": self.gpu_types[spec.gpu_type],
                "gpu_count": spec.gpu_count,
                "pricing_model": spec.pricing_model,
                "hourly_rate": Decimal(spec.hourly_rate),
                "owning_team": spec.owning_team,
            },
        )
        self.pools[spec.name] = pool
        self._count("gpu_pools", created)
        return pool

    # -- initiatives ---------------------------------------------------------------------------

    @staticmethod
    def _pick_subject(rng, code, used_titles):
        """A (subject, capability) of the unit, avoiding repeats within the unit while it can."""
        options = [
            (subject, key)
            for subject in SUBJECTS[code]
            for key in subject.capabilities
            if (code, f"{subject.name}/{key}") not in used_titles
        ]
        if not options:
            options = [(s, key) for s in SUBJECTS[code] for key in s.capabilities]
        subject, key = rng.choice(options)
        used_titles.add((code, f"{subject.name}/{key}"))
        return subject, key

    def _initiative_spec(
        self, rng, external_id, stage, code, subject, cap_key, qualifier, owners=None
    ):
        """Everything about one initiative, drawn from ``rng``: fields, history, deployments.

        ``owners`` are the usernames to draw the accountable owner from (the unit's named
        people by default).
        """
        capability = CAPABILITIES[cap_key]
        stakeholders, sensitivities, jurisdictions = UNIT_PROFILES[code]
        title = f"{subject.name} {capability.label}"
        title = title[0].upper() + title[1:]
        if qualifier:
            title = f"{title} {qualifier}"
        pct = rng.choice((15, 20, 25, 30, 35, 40, 50, 60))
        ai_type = rng.choice(capability.ai_types)
        generative = ai_type in (AIType.GENERATIVE, AIType.AGENTIC)
        sourcing = rng.choices(
            (Sourcing.VENDOR, Sourcing.BOTH, Sourcing.IN_HOUSE),
            (45, 35, 20) if generative else (15, 15, 70),
        )[0]
        sensitivity = rng.choice(sensitivities)
        uses_pii = sensitivity in (DataSensitivity.PERSONAL, DataSensitivity.SPECIAL_CATEGORY) or (
            sensitivity == DataSensitivity.CONFIDENTIAL and rng.random() < 0.25
        )
        where = rng.choice(jurisdictions)
        if "EU" in where:
            eu_role = {
                Sourcing.VENDOR: EUAIActRole.DEPLOYER,
                Sourcing.IN_HOUSE: EUAIActRole.PROVIDER,
            }.get(sourcing) or rng.choice((EUAIActRole.PROVIDER, EUAIActRole.DEPLOYER))
        else:
            eu_role = ""
        path = rng.choice(PATHS[stage])
        lifecycle = self._lifecycle(rng, stage, path)
        reached = set(path)
        value = None if stage == Stage.DRAFT and rng.random() < 0.5 else rng.randrange(60, 4000)
        expected_value = _money(value * 1000) if value else None
        expected_cost = _money(value * 1000 * rng.uniform(0.15, 0.6)) if value else None
        realised, realised_as_of, evidence = None, None, ""
        if value and Stage.PRODUCTION in reached:
            realised = _money(value * 1000 * rng.uniform(0.3, 1.3))
            # Measured at the last month end; every other one has its benefits write-up
            # linked (derived, not drawn, so the rest of the demo stays as it was).
            realised_as_of = self.today.replace(day=1) - timedelta(days=1)
            if value % 2 == 0:
                evidence = f"https://intranet.example.com/benefits/{code.lower()}/{value}"
        owners = owners or self.owners[code]
        owner = rng.choice(owners)
        lead_pool = [name for name in owners + self.owners["TECH"] if name != owner]
        slug = slugify(title)
        tags = [code.lower(), ai_type.replace("_", "-"), capability.category.replace("_", "-")]
        if generative:
            tags.append("genai")
        if "customer" in stakeholders.lower() or "client" in stakeholders.lower():
            tags.append("customer-facing")
        return {
            "external_id": external_id,
            "code": code,
            "stage": stage,
            "path": path,
            "lifecycle": lifecycle,
            "owner": owner,
            "technical_lead": rng.choice(lead_pool) if rng.random() < 0.75 else None,
            "sponsor": (rng.choice((self.leads[code], "exec")) if rng.random() < 0.6 else None),
            "deploy_units": rng.sample([c for c in UNIT_WEIGHTS if c != code], 3),
            "deploy_roll": rng.random(),
            "fields": {
                "title": title[:200],
                "problem_statement": rng.choice(PROBLEMS).format(
                    Team=subject.team[0].upper() + subject.team[1:],
                    team=subject.team,
                    obj=subject.obj,
                    growth=rng.choice((12, 18, 25, 30, 40)),
                ),
                "purpose": capability.purpose.format(obj=subject.obj, team=subject.team, pct=pct),
                "outputs": capability.outputs.format(obj=subject.obj, team=subject.team),
                "category": capability.category,
                "roadmap_phase": self._roadmap_phase(rng, stage),
                "initiated_on": lifecycle["dates"][0],
                "pilot_started_on": lifecycle["pilot"],
                "production_on": lifecycle["production"],
                "retired_on": lifecycle["retired"],
                "currency": "USD",
                "expected_annual_value": expected_value,
                "expected_annual_cost": expected_cost,
                "realised_value": realised,
                "realised_value_as_of": realised_as_of,
                "value_evidence_url": evidence,
                "data_sensitivity": sensitivity,
                "uses_pii": uses_pii,
                "sourcing": sourcing,
                "ai_type": ai_type,
                "autonomy_level": rng.choice(capability.autonomy),
                "impacted_stakeholders": stakeholders,
                "jurisdictions": where,
                "eu_ai_act_role": eu_role,
                "tags": ",".join(tags),
                "links": (
                    f"https://git.keel-demo.example/{code.lower()}/{slug}\n"
                    f"https://wiki.keel-demo.example/ai/{slug}"
                ),
            },
        }

    @staticmethod
    def _roadmap_phase(rng, stage):
        """The roadmap phase an initiative serves: later phases for more advanced ones."""
        if stage in (Stage.PRODUCTION, Stage.SCALED):
            return rng.choice((2, 3, 3, 4))
        if stage in (Stage.PILOT, Stage.PAUSED):
            return rng.choice((2, 3))
        return rng.choice((1, 2, None))

    def _lifecycle(self, rng, stage, path):
        """Dates for each step of ``path``: non-decreasing, from initiation up to today."""
        low, high = AGE_DAYS[stage]
        initiated = self.today - timedelta(days=rng.randint(low, high))
        age = (self.today - initiated).days
        dates = [initiated]
        steps = len(path) - 1
        if steps:
            span = age * rng.uniform(0.55, 0.95)
            weights = [rng.uniform(1.0, 3.0) for _ in range(steps)]
            total, running = sum(weights), 0.0
            for weight in weights:
                running += weight
                dates.append(initiated + timedelta(days=int(span * running / total)))
        reached = dict(zip(path, dates, strict=True))
        return {
            "dates": dates,
            "pilot": reached.get(Stage.PILOT),
            "production": reached.get(Stage.PRODUCTION),
            "scaled": reached.get(Stage.SCALED),
            "retired": reached.get(Stage.RETIRED),
            "ended": reached.get(Stage.RETIRED) or reached.get(Stage.REJECTED),
        }

    def _insert_initiatives(self, specs, existing_ids):
        """Insert the specs whose ``external_id`` is missing, with their history and deployments.

        Returns ``external_id -> (pk, spec)`` for every spec, old and new.
        """
        wanted = [spec["external_id"] for spec in specs]
        if existing_ids is None:
            existing = dict(
                Initiative.objects.filter(external_id__in=wanted).values_list("external_id", "pk")
            )
        else:
            existing = existing_ids
        missing = [spec for spec in specs if spec["external_id"] not in existing]
        result = {
            spec["external_id"]: (existing[spec["external_id"]], spec)
            for spec in specs
            if spec["external_id"] in existing
        }
        self.report.existing["initiatives"] += len(result)
        if not missing:
            return result
        last = sequence_next(REFERENCE_SEQUENCE, count=len(missing))
        first = last - len(missing) + 1
        users = self.users
        rows = [
            Initiative(
                reference=format_reference(first + offset),
                business_unit=self.units[spec["code"]],
                accountable_owner=users[spec["owner"]],
                technical_lead=users[spec["technical_lead"]] if spec["technical_lead"] else None,
                executive_sponsor=users[spec["sponsor"]] if spec["sponsor"] else None,
                created_by=users[spec["owner"]],
                stage=spec["stage"],
                external_id=spec["external_id"],
                **spec["fields"],
            )
            for offset, spec in enumerate(missing)
        ]
        high_water = Initiative.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        _bulk(Initiative, rows)
        # auto_now_add stamps "now" on insert; backdate to the lifecycle so "newest first" and
        # "last updated" read like a real register.
        Initiative.objects.filter(
            pk__gt=high_water,
            pk__lte=rows[-1].pk,
            external_id__startswith="demo-",
            initiated_on__isnull=False,
        ).update(
            created_at=Cast("initiated_on", DateTimeField()),
            updated_at=Cast(
                Coalesce("retired_on", "production_on", "pilot_started_on", "initiated_on"),
                DateTimeField(),
            ),
        )
        self.report.created["initiatives"] += len(rows)
        if not self.report.first_reference:
            self.report.first_reference = rows[0].reference
        self.report.last_reference = rows[-1].reference
        history, deployments = [], []
        for row, spec in zip(rows, missing, strict=True):
            result[spec["external_id"]] = (row.pk, spec)
            history.extend(self._history(row, spec))
            deployments.extend(self._deployments(row, spec))
        _bulk(StageChange, history)
        _bulk(Deployment, deployments)
        self.report.created["stage_changes"] += len(history)
        self.report.created["deployments"] += len(deployments)
        return result

    def _history(self, initiative, spec):
        """Stage-change rows for ``spec['path']``: who moved it, when, and why."""
        rng = random.Random(f"{SEED}:history:{spec['external_id']}")
        path, dates = spec["path"], spec["lifecycle"]["dates"]
        owner = self.users[spec["owner"]]
        changes = []
        previous = ""
        for stage, day in zip(path, dates, strict=True):
            reason = ""
            actor = owner
            if stage in GATE_NAMES:
                actor = self.users[rng.choice(("reviewer", "coeadmin"))]
                reason = f"Approved at the {GATE_NAMES[stage]} gate."
            elif stage in STAGE_REASONS:
                reason = rng.choice(STAGE_REASONS[stage])
                if stage == Stage.REJECTED:
                    actor = self.users[rng.choice(("reviewer", "risk"))]
                else:
                    actor = self.users[self.leads[spec["code"]]]
            changes.append(
                StageChange(
                    initiative_id=initiative.pk,
                    from_stage=previous,
                    to_stage=stage,
                    changed_at=_aware(day, rng),
                    changed_by=actor,
                    reason=reason,
                )
            )
            previous = stage
        # Same-day steps must stay in path order; _aware draws independent times.
        for earlier, later in zip(changes, changes[1:], strict=False):
            if later.changed_at <= earlier.changed_at:
                later.changed_at = earlier.changed_at + timedelta(minutes=7)
        return changes

    def _deployments(self, initiative, spec):
        """Where the initiative runs: its own unit from pilot on, and other units once scaled.

        Scaled initiatives are in production in at least two units; ended ones have their
        deployments retired on the day they ended.
        """
        life = spec["lifecycle"]
        path, stage = spec["path"], spec["stage"]
        own = self.units[spec["code"]]
        others = [self.units[code] for code in spec["deploy_units"]]
        roll = spec["deploy_roll"]
        rows = []
        if Stage.PILOT not in path:
            return rows
        ended = life["ended"]
        if Stage.PRODUCTION in path:
            own_status, own_start = DeploymentStatus.PRODUCTION, life["production"]
        else:
            own_status, own_start = DeploymentStatus.PILOT, life["pilot"]
        if ended:
            own_status = DeploymentStatus.RETIRED
        rows.append(
            Deployment(
                initiative_id=initiative.pk,
                business_unit=own,
                status=own_status,
                started_on=own_start,
                ended_on=ended,
            )
        )
        if Stage.SCALED in path:
            production, scaled = life["production"], life["scaled"]
            gap = (scaled - production).days
            for position, unit in enumerate(others[: 1 + int(roll * 3)]):
                started = production + timedelta(days=int(gap * (position + 1) / 4))
                rows.append(
                    Deployment(
                        initiative_id=initiative.pk,
                        business_unit=unit,
                        status=DeploymentStatus.RETIRED if ended else DeploymentStatus.PRODUCTION,
                        started_on=started,
                        ended_on=ended,
                    )
                )
        elif stage == Stage.PRODUCTION and roll < 0.4:
            if roll < 0.2:
                status, started = DeploymentStatus.PLANNED, None
            else:
                status = DeploymentStatus.PILOT
                started = life["production"] + (self.today - life["production"]) // 2
            rows.append(
                Deployment(
                    initiative_id=initiative.pk,
                    business_unit=others[0],
                    status=status,
                    started_on=started,
                )
            )
        elif stage == Stage.PILOT and roll < 0.2:
            rows.append(
                Deployment(
                    initiative_id=initiative.pk,
                    business_unit=others[0],
                    status=DeploymentStatus.PLANNED,
                )
            )
        return rows
