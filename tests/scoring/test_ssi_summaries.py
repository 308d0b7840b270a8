"""The company's and teams' summaries of a day (scoring.services.summaries): the SQL equals
a reference computed here in Python (Decimal, half away from zero) on random snapshots, and
migration 0011's fill of the days scored before it gives the same rows."""

from __future__ import annotations

import importlib
import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from core.db import connection
from scoring.engine import PILLARS, round2
from scoring.models import Rep, SsiSummary, Team
from scoring.services.summaries import ssi_summaries_refresh
from tests.factories.scoring import RepFactory, ScoreSnapshotFactory, TeamFactory
from tests.support.tenants import in_tenant

DAYS = [date(2026, 5, 1) + timedelta(days=i) for i in range(4)]
CENT = Decimal("0.01")


def r2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def shown(value: float) -> Decimal:
    """A rep's score as the API shows it."""
    return Decimal(str(round2(value)))


def reference(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ssis = [shown(row["ssi"]) for row in rows]
    ordered = sorted(ssis)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return {
        "reps": len(rows),
        "mean": r2(sum(ssis, Decimal(0)) / len(ssis)),
        "median": r2(median),
        **{p: r2(sum((shown(row[p]) for row in rows), Decimal(0)) / len(rows)) for p in PILLARS},
        "good": sum(1 for s in ssis if s >= 70),
        "okay": sum(1 for s in ssis if 40 <= s < 70),
        "poor": sum(1 for s in ssis if s < 40),
    }


def stored() -> dict[tuple[date, int | None], dict[str, Any]]:
    fields = ["reps", "mean", "median", *PILLARS, "good", "okay", "poor"]
    return {
        (row["day"], row["team_id"]): {f: row[f] for f in fields}
        for row in SsiSummary.objects.values("day", "team_id", *fields)
    }


def random_day(rng: random.Random) -> dict[tuple[date, int | None], dict[str, Any]]:
    """Snapshots of random reps over ``DAYS``; returns the expected summaries."""
    teams: list[Team | None] = [TeamFactory.create(), TeamFactory.create(), TeamFactory.create(), None]
    reps = [RepFactory.create(team=rng.choice(teams), active=rng.random() > 0.15) for _ in range(60)]
    groups: dict[tuple[date, int | None], list[dict[str, Any]]] = defaultdict(list)
    for day in DAYS:
        for rep in reps:
            if rng.random() < 0.2:
                continue  # no snapshot that day
            # Edges on purpose: exact band limits, values that round half away from zero.
            pillars = {p: rng.choice([0.0, 10.0, 17.5, 17.495, 9.995, rng.uniform(0, 25)]) for p in PILLARS}
            ssi = rng.choice([70.0, 40.0, 39.995, 69.995, sum(pillars.values())])
            ScoreSnapshotFactory.create(rep=rep, day=day, team=rep.team, ssi=ssi, **pillars)
            if rep.active:
                row = {"ssi": ssi, **pillars}
                groups[(day, None)].append(row)
                if rep.team is not None:
                    groups[(day, rep.team.pk)].append(row)
    return {key: reference(rows) for key, rows in groups.items()}


def test_summaries_equal_the_reference_on_random_snapshots(db: None, world: Any) -> None:
    rng = random.Random(20260501)
    with in_tenant("acme"):
        expected = random_day(rng)
        ssi_summaries_refresh(days=DAYS)
        assert stored() == expected
        # a refresh of one day replaces that day's rows only
        Rep.objects.filter(active=True).update(active=False)
        ssi_summaries_refresh(days=[DAYS[0]])
        assert {key for key in stored() if key[0] == DAYS[0]} == set()
        assert stored() == {key: value for key, value in expected.items() if key[0] != DAYS[0]}


def test_the_migration_fills_every_day_already_scored(db: None, world: Any) -> None:
    migration = importlib.import_module("scoring.migrations.0011_ssisummary")
    rng = random.Random(7)
    with in_tenant("acme"):
        expected = random_day(rng)
        assert not SsiSummary.objects.exists()  # snapshots written without their summaries
        with connection.cursor() as cursor:
            cursor.execute(migration.FILL_SQL)
        assert expected
        assert stored() == expected
