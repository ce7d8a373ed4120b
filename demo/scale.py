"""The demo builder's ``--scale`` half: the large organisation added on top of the base demo
for benchmarks, with its extra owners, pools and models (:class:`ScaleMixin`).
"""

import math
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils.text import slugify

from core.choices import Role
from core.models import Membership
from demo.building import _bulk
from demo.data import (
    BASE_STAGE_MIX,
    FIRST_NAMES,
    GPU_TYPES,
    LAST_NAMES,
    PRICING_FACTORS,
    SCALE_ALLOCATION_MARKER,
    SCALE_EXTERNAL_PREFIX,
    SCALE_QUALIFIERS,
    SEED,
    STAGE_RANK,
    SUBJECTS,
    UNIT_WEIGHTS,
    PoolSpec,
)
from inventory.gpu.choices import PoolKind, PricingModel, Provider
from inventory.gpu.models import GPUPool
from portfolio.initiatives.models import Initiative


class ScaleMixin:
    """``build_scale`` and its ``_scale_*`` steps; mixed into ``demo.organisation._Builder``,
    whose initiative, model and allocation methods it calls."""

    # -- scale ---------------------------------------------------------------------------------

    def build_scale(self, scale: int) -> None:
        """Add ``scale`` initiatives and proportional owners, pools, models and allocations.

        Initiative *i* draws from its own stream and from owners 1…8+i/25, who exist for any
        N ≥ i, so it is the same whatever ``--scale`` a run asked for: growing from
        ``--scale 300`` to ``--scale 600`` adds initiatives 301–600 and changes nothing else.
        """
        people = self._scale_people(8 + scale // 25)
        allocation_count = scale * 3 // 2
        pools = self._scale_pools(max(2, math.ceil(allocation_count / 60)))
        units = list(UNIT_WEIGHTS)
        weights = [UNIT_WEIGHTS[code] for code in units]
        stages = list(BASE_STAGE_MIX)
        stage_weights = [BASE_STAGE_MIX[stage] for stage in stages]
        specs = []
        for index in range(1, scale + 1):
            rng = random.Random(f"{SEED}:scale-initiative:{index}")
            code = rng.choices(units, weights)[0]
            known = 8 + index // 25
            owners = self.owners[code] + [username for username in people[code][:known] if username]
            stage = rng.choices(stages, stage_weights)[0]
            subject = rng.choice(SUBJECTS[code])
            cap_key = rng.choice(subject.capabilities)
            qualifier = rng.choice(SCALE_QUALIFIERS) if rng.random() < 0.5 else ""
            specs.append(
                self._initiative_spec(
                    rng,
                    f"{SCALE_EXTERNAL_PREFIX}{index:06d}",
                    stage,
                    code,
                    subject,
                    cap_key,
                    qualifier,
                    owners,
                )
            )
        existing = dict(
            Initiative.objects.filter(external_id__startswith=SCALE_EXTERNAL_PREFIX).values_list(
                "external_id", "pk"
            )
        )
        initiatives = self._insert_initiatives(specs, existing_ids=existing)
        self._scale_models(scale // 3, specs, initiatives)
        self._allocations(
            initiatives,
            count=allocation_count,
            marker=SCALE_ALLOCATION_MARKER,
            width=6,
            pools=pools,
            rng=random.Random(f"{SEED}:scale-allocations"),
        )

    def _scale_people(self, count: int) -> dict[str, list[str]]:
        """``count`` extra owners spread over the units, one in ten a BU lead.

        Returns, per unit, a list indexed by person number − 1 holding the username of each
        person of that unit and ``""`` for the others, so callers can slice "people 1…k".
        """
        User = get_user_model()
        units = list(UNIT_WEIGHTS)
        planned = []
        for index in range(1, count + 1):
            first = FIRST_NAMES[index % len(FIRST_NAMES)]
            last = LAST_NAMES[(index * 7) % len(LAST_NAMES)]
            username = f"{first}.{last}.{index:04d}".lower()
            code = units[index % len(units)]
            role = Role.BU_LEAD if index % 10 == 0 else Role.BU_MEMBER
            planned.append((username, first, last, code, role))
        existing = dict(
            User.objects.filter(username__in=[row[0] for row in planned]).values_list(
                "username", "pk"
            )
        )
        self.report.existing["users"] += len(existing)
        self.report.existing["memberships"] += len(existing)
        new = [
            User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@keel-demo.example",
                password=self.password(),
            )
            for username, first, last, _, _ in planned
            if username not in existing
        ]
        _bulk(User, new)
        self.report.created["users"] += len(new)
        created = {user.username: user for user in new}
        memberships = []
        by_unit = {code: [""] * count for code in units}
        for position, (username, _, _, code, role) in enumerate(planned):
            by_unit[code][position] = username
            user = created.get(username)
            if user is not None:
                memberships.append(Membership(user=user, business_unit=self.units[code], role=role))
            else:
                user = User(pk=existing[username], username=username)
            self.users[username] = user
        _bulk(Membership, memberships)
        self.report.created["memberships"] += len(memberships)
        return by_unit

    def _scale_pools(self, count: int) -> list[GPUPool]:
        """``count`` large pools for scaled allocations; pool *i* is the same whatever N is."""
        kinds = (
            (Provider.AWS, PoolKind.KUBERNETES, "eu-west-1"),
            (Provider.GCP, PoolKind.KUBERNETES, "europe-west4"),
            (Provider.AZURE, PoolKind.CLOUD_ACCOUNT, "westeurope"),
            (Provider.ON_PREM, PoolKind.SLURM, "London DC1"),
            (Provider.ON_PREM, PoolKind.ON_PREM_CLUSTER, "Manchester DC2"),
        )
        pricing = {
            Provider.ON_PREM: PricingModel.OWNED,
            Provider.AWS: PricingModel.RESERVED,
            Provider.GCP: PricingModel.ON_DEMAND,
            Provider.AZURE: PricingModel.RESERVED,
        }
        pools = []
        for index in range(1, count + 1):
            rng = random.Random(f"{SEED}:scale-pool:{index}")
            provider, kind, region = kinds[index % len(kinds)]
            _, type_name, _, price = rng.choice(GPU_TYPES)
            model = pricing[provider]
            name = f"{provider.replace('_', '')}-{slugify(type_name)}-fleet-{index:03d}"
            pools.append(
                self._pool(
                    PoolSpec(
                        name=name,
                        kind=kind,
                        provider=provider,
                        region=region,
                        account="" if provider == Provider.ON_PREM else f"keel-fleet-{index:03d}",
                        cluster=f"fleet-{index:03d}",
                        gpu_type=type_name,
                        gpu_count=rng.choice((256, 384, 512)),
                        pricing_model=model,
                        hourly_rate=str(
                            (Decimal(price) * PRICING_FACTORS[model]).quantize(Decimal("0.0001"))
                        ),
                        owning_team=rng.choice(("ML Platform", "HPC Services", "GenAI Platform")),
                    )
                )
            )
        return pools

    def _scale_models(self, count, specs, initiatives) -> None:
        """``count`` in-house models; model *i* serves scaled initiative 3i−2…3i and up to two
        of the sixty before it.

        Each model draws from its own stream and its initiatives exist for any N ≥ 3i, so
        model *i* (and therefore its name, the key that makes reruns idempotent) is the same
        whatever ``--scale`` a run asked for.
        """
        existing = self._existing_models()
        ordered = [initiatives[spec["external_id"]] for spec in specs]
        used_names: set[str] = set()
        planned = []
        for index in range(1, count + 1):
            rng = random.Random(f"{SEED}:scale-model:{index}")
            served = 3 * index - rng.randrange(3)
            pk, spec = ordered[served - 1]
            model = self._in_house_model(rng, spec, f"-{index:05d}", used_names)
            window = range(max(1, served - 60), served)
            extra = rng.sample(window, min(len(window), rng.randint(0, 2)))
            linked = sorted({pk, *(ordered[number - 1][0] for number in extra)})
            rank = max(STAGE_RANK[ordered[number - 1][1]["stage"]] for number in [served, *extra])
            planned.append((model, linked, rank, False))
        self._insert_models(planned, existing)
