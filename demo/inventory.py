"""The demo builder's inventory half: AI models and their versions, and GPU allocations
placed in the pools through the capacity ledger (:class:`InventoryMixin`).
"""

import random
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.utils.text import slugify

from demo.building import _bulk, _hundredths
from demo.data import (
    ALLOCATION_STAGE_WEIGHTS,
    BASE_IN_HOUSE_MODELS,
    BATCH_SIZE,
    FAMILIES,
    MARKER_PATTERN,
    ORPHAN_NOTES,
    PURPOSE_GPUS,
    PURPOSE_SHAPES,
    SEED,
    STAGE_RANK,
    UNIT_WEIGHTS,
    VENDOR_MODELS,
)
from inventory.gpu.choices import AllocationPurpose
from inventory.gpu.models import GPUAllocation
from inventory.registry.choices import Hosting, ModelStatus, MonitoringStatus
from inventory.registry.models import AIModel, ModelVersion
from portfolio.initiatives.choices import Stage


class InventoryMixin:
    """Models, versions and allocations; mixed into ``demo.organisation._Builder``, whose
    state (units, users, pools, ledger, report) and helpers it uses."""

    # -- models --------------------------------------------------------------------------------

    @staticmethod
    def _existing_models() -> set[tuple[int, str]]:
        """The (business unit id, name) keys of every model already registered."""
        return set(AIModel.objects.values_list("business_unit_id", "name"))

    def _base_models(self, specs, initiatives) -> None:
        """14 vendor models owned by the CoE and 26 in-house models of advanced initiatives."""
        rng = random.Random(f"{SEED}:models")
        existing = self._existing_models()
        by_type = defaultdict(list)
        for external_id, (pk, spec) in sorted(initiatives.items()):
            if STAGE_RANK[spec["stage"]] >= 1:
                by_type[spec["fields"]["ai_type"]].append((external_id, pk, spec))
        planned = []
        coe = self.units["COE"]
        for model in VENDOR_MODELS:
            candidates = [item for ai_type in model.serves for item in by_type[ai_type]]
            linked = rng.sample(candidates, min(len(candidates), rng.randint(1, 6)))
            planned.append(
                (
                    AIModel(
                        name=model.name,
                        model_type=model.model_type,
                        vendor=self.vendors[model.vendor],
                        licence=model.licence,
                        hosting=model.hosting,
                        business_unit=coe,
                        owner=self.users[rng.choice(("coeadmin", "platform"))],
                        description=f"{model.name} by {model.vendor}, approved for enterprise "
                        "use through the CoE's AI gateway.",
                    ),
                    [pk for _, pk, _ in linked],
                    max((STAGE_RANK[s["stage"]] for _, _, s in linked), default=0),
                    True,
                )
            )
        advanced = [
            (external_id, pk, spec)
            for external_id, (pk, spec) in sorted(initiatives.items())
            if STAGE_RANK[spec["stage"]] >= 2
        ]
        used_names: set[str] = set()
        for _, pk, spec in rng.sample(advanced, min(len(advanced), BASE_IN_HOUSE_MODELS)):
            model = self._in_house_model(rng, spec, "", used_names)
            siblings = [
                other_pk
                for _, other_pk, other in advanced
                if other["fields"]["ai_type"] == spec["fields"]["ai_type"] and other_pk != pk
            ]
            linked = [pk] + (rng.sample(siblings, 1) if siblings and rng.random() < 0.3 else [])
            planned.append((model, linked, STAGE_RANK[spec["stage"]], False))
        self._insert_models(planned, existing)

    def _in_house_model(self, rng, spec, suffix, used_names):
        """An unsaved in-house model named after the initiative it serves, unique in the run."""
        ai_type = spec["fields"]["ai_type"]
        family, model_type, licence = rng.choice(FAMILIES[ai_type])
        stem = slugify(spec["fields"]["title"].split(" (")[0].split(" –")[0])[:60]
        name = f"{stem}-{family}{suffix}"
        while name in used_names:
            name = f"{name}-b"
        used_names.add(name)
        owner = spec["technical_lead"] or spec["owner"]
        return AIModel(
            name=name,
            model_type=model_type,
            licence=licence,
            hosting=rng.choice((Hosting.CLOUD, Hosting.CLOUD, Hosting.ON_PREM)),
            business_unit=self.units[spec["code"]],
            owner=self.users[owner],
            description=f"{family} model serving “{spec['fields']['title']}”.",
        )

    def _insert_models(self, planned, existing) -> None:
        """Insert the planned models missing from the database, with versions and links."""
        self.report.existing["ai_models"] += sum(
            1 for model, *_ in planned if (model.business_unit_id, model.name) in existing
        )
        new = [item for item in planned if (item[0].business_unit_id, item[0].name) not in existing]
        if not new:
            return
        _bulk(AIModel, [model for model, *_ in new])
        through = AIModel.initiatives.through
        links, versions = [], []
        for model, linked, rank, is_vendor in new:
            links.extend(through(aimodel_id=model.pk, initiative_id=pk) for pk in linked)
            versions.extend(self._versions(model, rank, is_vendor))
        _bulk(through, links)
        _bulk(ModelVersion, versions)
        self.report.created["ai_models"] += len(new)
        self.report.created["model_links"] += len(links)
        self.report.created["model_versions"] += len(versions)

    def _versions(self, model, rank, is_vendor):
        """1–3 versions, newest last; the newest one's status follows the furthest initiative.

        Drawn from the model's own stream so a model's versions do not depend on which other
        models already exist.
        """
        rng = random.Random(f"{SEED}:versions:{model.business_unit.code}:{model.name}")
        count = rng.choices((1, 2, 3), (40, 35, 25))[0]
        released = self.today - timedelta(days=rng.randint(20, 200))
        days = [released]
        for _ in range(count - 1):
            days.insert(0, days[0] - timedelta(days=rng.randint(60, 240)))
        latest_status = {
            0: ModelStatus.DEVELOPMENT,
            1: ModelStatus.DEVELOPMENT,
            2: rng.choice((ModelStatus.VALIDATION, ModelStatus.APPROVED)),
            3: ModelStatus.PRODUCTION,
            4: ModelStatus.PRODUCTION,
        }[rank]
        rows = []
        for position, day in enumerate(days):
            newest = position == count - 1
            status = (
                latest_status
                if newest
                else (ModelStatus.DEPRECATED if position == count - 2 else ModelStatus.RETIRED)
            )
            version = day.isoformat() if is_vendor else f"{1 + position // 2}.{position % 2}.0"
            validated = None
            if status in (ModelStatus.APPROVED, ModelStatus.PRODUCTION, ModelStatus.DEPRECATED):
                validated = min(self.today, day + timedelta(days=rng.randint(3, 30)))
            if status == ModelStatus.PRODUCTION:
                monitoring = rng.choices(
                    (MonitoringStatus.HEALTHY, MonitoringStatus.WARNING, MonitoringStatus.DRIFTING),
                    (70, 20, 10),
                )[0]
            else:
                monitoring = MonitoringStatus.UNKNOWN
            uri = (
                ""
                if is_vendor
                else (
                    f"s3://keel-model-registry/{model.business_unit.code.lower()}/"
                    f"{model.name}/{version}/model.tar.gz"
                )
            )
            rows.append(
                ModelVersion(
                    model_id=model.pk,
                    version=version,
                    status=status,
                    artefact_uri=uri,
                    released_on=day,
                    last_validated_on=validated,
                    # Half-yearly or yearly reviews: some fall overdue, as in real life.
                    next_review_due=(
                        validated + timedelta(days=rng.choice((180, 365))) if validated else None
                    ),
                    monitoring_status=monitoring,
                )
            )
        return rows

    # -- allocations ---------------------------------------------------------------------------

    def _load_ledger(self, pools) -> None:
        """Put the pools' existing allocations in the ledger (once per pool)."""
        ids = [pool.pk for pool in pools if pool.pk not in self._ledger_pools]
        if not ids:
            return
        self._ledger_pools.update(ids)
        rows = GPUAllocation.objects.filter(pool_id__in=ids).order_by("pk")
        for pool_id, count, starts_on, ends_on in rows.values_list(
            "pool_id", "gpu_count", "starts_on", "ends_on"
        ).iterator(chunk_size=BATCH_SIZE):
            self.ledger.add(pool_id, 0, _hundredths(count), starts_on, ends_on, force=True)

    def _allocations(self, initiatives, *, count, marker, width, pools, rng) -> None:
        """Plan ``count`` allocations and insert the missing ones where capacity allows.

        About 8 % have no initiative and about 15 % belong to retired or rejected initiatives,
        many still running: the orphans the platform team should reclaim. Every allocation's
        plan is drawn whether or not it exists, so allocation *i* is the same on every run.
        """
        existing = set()
        rows = GPUAllocation.objects.filter(notes__startswith=f"[{marker}").values_list(
            "notes", flat=True
        )
        for notes in rows.iterator(chunk_size=BATCH_SIZE):
            found = MARKER_PATTERN.match(notes)
            if found and found.group(1) == marker:
                existing.add(int(found.group(2)))
        self.report.existing["gpu_allocations"] += len(existing)
        by_stage = defaultdict(list)
        for external_id in sorted(initiatives):
            pk, spec = initiatives[external_id]
            by_stage[spec["stage"]].append((pk, spec))
        stages = [stage for stage in ALLOCATION_STAGE_WEIGHTS if by_stage[stage]]
        weights = [ALLOCATION_STAGE_WEIGHTS[stage] for stage in stages]
        candidates = self._candidates(pools)
        self._load_ledger(pools)
        new = []
        for index in range(1, count + 1):
            plan = self._allocation_plan(rng, by_stage, stages, weights)
            if index in existing:
                continue
            placed = self._place(plan, candidates[plan["purpose"]])
            if placed is None:
                self.report.skipped_allocations += 1
                continue
            pool, gpus = placed
            new.append(
                GPUAllocation(
                    pool=pool,
                    gpu_count=gpus,
                    initiative_id=plan["initiative"],
                    business_unit=self.units[plan["code"]],
                    purpose=plan["purpose"],
                    starts_on=plan["starts_on"],
                    ends_on=plan["ends_on"],
                    requested_by=self.users[plan["requester"]],
                    approved_by=self.users[plan["approver"]],
                    notes=f"[{marker}{index:0{width}d}] {plan['note']}",
                )
            )
        _bulk(GPUAllocation, new)
        self.report.created["gpu_allocations"] += len(new)

    def _candidates(self, pools) -> dict[str, tuple[list, list]]:
        """Per purpose: (pools of suitable GPU types, best type first; every other pool)."""
        type_names = {gpu_type.pk: name for name, gpu_type in self.gpu_types.items()}
        result = {}
        for purpose, suitable in PURPOSE_GPUS.items():
            preferred = [
                pool
                for name in suitable
                for pool in pools
                if type_names.get(pool.gpu_type_id) == name
            ]
            chosen = {pool.pk for pool in preferred}
            result[purpose] = (preferred, [pool for pool in pools if pool.pk not in chosen])
        return result

    def _allocation_plan(self, rng, by_stage, stages, weights) -> dict:
        """The initiative, purpose, size, dates and people of one allocation (no pool yet)."""
        window_start = self.today - timedelta(days=3 * 365)
        if rng.random() < 0.08:
            spec, pk = None, None
            code = rng.choice(list(UNIT_WEIGHTS))
            purpose = rng.choice(
                (
                    AllocationPurpose.EXPERIMENTATION,
                    AllocationPurpose.TRAINING,
                    AllocationPurpose.INFERENCE,
                )
            )
            anchor, latest = window_start, self.today
            note = rng.choice(ORPHAN_NOTES)
            requester = rng.choice(self.owners[code])
        else:
            pk, spec = rng.choice(by_stage[rng.choices(stages, weights)[0]])
            code, life, path = spec["code"], spec["lifecycle"], spec["path"]
            if Stage.PRODUCTION in path:
                purpose = rng.choices(
                    (
                        AllocationPurpose.INFERENCE,
                        AllocationPurpose.TRAINING,
                        AllocationPurpose.FINE_TUNING,
                    ),
                    (6, 2, 2),
                )[0]
                anchor = life["production" if purpose == AllocationPurpose.INFERENCE else "pilot"]
            elif Stage.PILOT in path:
                purpose = rng.choices(
                    (
                        AllocationPurpose.EXPERIMENTATION,
                        AllocationPurpose.FINE_TUNING,
                        AllocationPurpose.TRAINING,
                        AllocationPurpose.INFERENCE,
                    ),
                    (3, 3, 3, 2),
                )[0]
                anchor = life["pilot"]
            else:
                purpose = AllocationPurpose.EXPERIMENTATION
                anchor = life["dates"][0]
            latest = life["ended"] or self.today + timedelta(days=30)
            note = f"{AllocationPurpose(purpose).label} for {spec['fields']['title']}."
            requester = spec["technical_lead"] or spec["owner"]
        counts, (shortest, longest), open_share = PURPOSE_SHAPES[purpose]
        anchor = max(anchor, window_start)
        latest = max(latest, anchor)
        starts_on = anchor + timedelta(days=rng.randint(0, (latest - anchor).days))
        if spec and spec["lifecycle"]["ended"] and rng.random() < 0.6:
            # Still running after its initiative ended: the orphaned spend to reclaim.
            ends_on = (
                None if rng.random() < 0.5 else self.today + timedelta(days=rng.randint(10, 120))
            )
        elif rng.random() < open_share:
            ends_on = None
        else:
            ends_on = starts_on + timedelta(days=rng.randint(shortest, longest))
        return {
            "initiative": pk,
            "code": code,
            "purpose": purpose,
            "gpus": Decimal(rng.choice(counts)),
            "starts_on": starts_on,
            "ends_on": ends_on,
            "note": note,
            "requester": requester,
            "approver": rng.choice(("platform", "platform", "admin")),
            "spread": rng.random(),
        }

    def _place(self, plan, candidates):
        """The first pool with room, suitable GPU types first; halve the ask if none has room.

        The starting pool among the suitable ones is spread by the plan so that allocations
        do not all pile into the first pool.
        """
        preferred, rest = candidates
        offset = int(plan["spread"] * len(preferred))
        ordered = preferred[offset:] + preferred[:offset] + rest
        gpus = plan["gpus"]
        while gpus >= Decimal("0.25"):
            amount = _hundredths(gpus)
            for pool in ordered:
                capacity = pool.gpu_count * 100
                if self.ledger.add(pool.pk, capacity, amount, plan["starts_on"], plan["ends_on"]):
                    return pool, gpus
            gpus = gpus / 2
        return None
