"""``metrics_load`` (one rollup scan for every events.*/sum.* metric and the streaks, index
probes for snapshots and state types) gives, on random data, what each metric means when
worked out rep by rep from that rep's raw events, awards and snapshots
(docs/gamification.md#the-metric-language); for every rep asked for, by id range or by a
sparse list, in both streak modes.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import gamification.services.metrics
from gamification.models import BadgeAward, Goal
from gamification.rules.criteria import MetricRef
from gamification.rules.levels import level_for
from gamification.rules.streaks import streak
from gamification.services.badges import badges_seed
from gamification.services.evaluation import day_scored_evaluate
from gamification.services.metrics import SUMS_PER_SCAN, metrics_load
from gamification.services.streaks import reps_streaks
from scoring.engine import round2
from scoring.engine.catalog import EVENT_TYPES
from scoring.models import Activity, Rep, ScoreSnapshot
from scoring.services.ingest import activities_ingest
from scoring.services.recompute import scores_compute_day
from tenants.models import Tenant
from tenants.tenant_settings import settings_get
from tests.factories.gamification import GoalFactory
from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.tenants import in_tenant

TYPES = sorted(EVENT_TYPES)
DAY = date(2026, 6, 30)  # a Tuesday
REFS = [
    MetricRef("events.post_published"),
    MetricRef("events.post_published", 30),
    MetricRef("events.message_sent", 1),
    MetricRef("sum.post_liked", 7),
    MetricRef("sum.message_sent"),
    MetricRef("state.profile_updated"),
    MetricRef("state.connections_synced"),
    MetricRef("streak.current"),
    MetricRef("streak.longest"),
    MetricRef("ssi"),
    MetricRef("pillar.engage"),
    MetricRef("rank.top_percent"),
    MetricRef("rank.team_top_percent"),
    MetricRef("xp"),
    MetricRef("level"),
    MetricRef("badges"),
    MetricRef("goals.achieved"),
]


def random_history(rng: random.Random, reps: list[str]) -> list[dict[str, object]]:
    """About 150 days (more than the 64 of a mask word) of events, each rep its own density."""
    events: list[dict[str, object]] = []
    start = datetime(2026, 2, 1, 8, tzinfo=UTC)
    for r, rep in enumerate(reps):
        density = 0.0 if r == 0 else [0.3, 0.7, 0.95, 0.5][r % 4]
        for d in range(160):  # some after DAY, which no metric as of DAY may see
            if rng.random() >= density:
                continue
            for k in range(rng.randint(1, 4)):
                at = start + timedelta(days=d, minutes=rng.randint(0, 14 * 60))
                if k and rng.random() < 0.1:
                    at = datetime.fromisoformat(str(events[-1]["occurred_at"]))  # equal times: the tie rule
                events.append(
                    {
                        "id": f"m-{rep}-{d}-{k}",
                        "rep": rep,
                        "type": rng.choice([*TYPES[:6], "post_published", "message_sent", "profile_updated"]),
                        "occurred_at": at.isoformat(),
                        "value": rng.choice([1, 1, 2, 3.5, 0, 80, 100]),
                    }
                )
    return events


def expected(
    rep: Rep, day: date, tz: ZoneInfo, mode: str, thresholds: list[int], period_start: date | None
) -> dict[MetricRef, float | None]:
    """Each metric of ``rep`` as of ``day``, from its rows, one rep at a time."""
    rows = list(Activity.objects.filter(rep=rep, local_day__lte=day).order_by("id"))
    out: dict[MetricRef, float | None] = {}
    for ref in REFS:
        if ref.name.startswith(("events.", "sum.")):
            start = period_start or (day - timedelta(days=ref.window_days - 1) if ref.window_days else None)
            selected = [a for a in rows if a.type == ref.type and (start is None or a.local_day >= start)]
            out[ref] = (
                float(len(selected))
                if ref.name.startswith("events.")
                else math.fsum(a.value for a in selected)
            )
        elif ref.name.startswith("state."):
            of_type = [a for a in rows if a.type == ref.type]
            out[ref] = float(max(of_type, key=lambda a: (a.occurred_at, a.id)).value) if of_type else 0.0
    s = streak({a.local_day for a in rows}, today=day, mode=mode)
    out[MetricRef("streak.current")], out[MetricRef("streak.longest")] = float(s.current), float(s.longest)
    snapshot = ScoreSnapshot.objects.filter(rep=rep, day__lte=day).order_by("-day").first()
    for name, column in [
        ("ssi", "ssi"),
        ("pillar.engage", "engage"),
        ("rank.top_percent", "tenant_top_percent"),
        ("rank.team_top_percent", "team_top_percent"),
    ]:
        value = None if snapshot is None else getattr(snapshot, column)
        if value is not None and not name.startswith("rank."):
            value = round2(value)
        out[MetricRef(name)] = None if value is None else float(value)
    out[MetricRef("xp")] = float(rep.xp)
    out[MetricRef("level")] = float(level_for(rep.xp, thresholds))
    out[MetricRef("badges")] = float(BadgeAward.objects.filter(rep=rep).count())
    out[MetricRef("goals.achieved")] = float(Goal.objects.filter(rep=rep, status="achieved").count())
    return out


def assert_same(got: dict[MetricRef, float | None], want: dict[MetricRef, float | None], rep: str) -> None:
    assert got.keys() == want.keys(), rep
    for ref, value in want.items():
        if ref.name.startswith("sum.") and value is not None:
            assert got[ref] == pytest.approx(value, rel=1e-12), (rep, ref)
        else:
            assert got[ref] == value, (rep, ref, got[ref], value)


@pytest.mark.parametrize(
    ("mode", "sums_per_scan"),
    [("weekdays", SUMS_PER_SCAN), ("daily", SUMS_PER_SCAN), ("weekdays", 1)],
    ids=["weekdays", "daily", "a-scan-per-sum"],
)
def test_metrics_in_bulk_equal_the_metrics_of_each_rep_on_random_data(
    world: object, db: None, mode: str, sums_per_scan: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``a-scan-per-sum``: the sums read in as many scans as there are, as for many badges."""
    monkeypatch.setattr(gamification.services.metrics, "SUMS_PER_SCAN", sums_per_scan)
    rng = random.Random(17 if mode == "weekdays" else 18)
    acme = Tenant.objects.get(slug="acme")
    Tenant.objects.filter(pk=acme.pk).update(settings={**(acme.settings or {}), "streak_mode": mode})
    acme.refresh_from_db()
    tz = ZoneInfo(acme.timezone)
    with in_tenant("acme"):
        badges_seed()
        names = [f"met-{mode}-{i}" for i in range(12)]
        events = random_history(rng, names)
        for start in range(0, len(events), 1000):
            result = activities_ingest(
                tenant=acme, events=events[start : start + 1000], now=datetime(2026, 7, 20, tzinfo=UTC)
            )
            assert not result.rejected
        RepFactory.create(external_id=names[0])  # no events at all (density 0)
        team = TeamFactory.create()
        Rep.objects.filter(external_id__in=names[::3]).update(team=team)
        reps = list(Rep.objects.filter(external_id__in=names).order_by("id"))
        assert len(reps) == len(names)
        Rep.objects.filter(pk=reps[1].pk).update(xp=1234)
        # Snapshots on two days, and the badges they earn; then a rep is left without any.
        for day in (DAY - timedelta(days=9), DAY - timedelta(days=2)):
            scores_compute_day(tenant=acme, day=day)
            day_scored_evaluate(tenant=acme, day=day)
        ScoreSnapshot.objects.filter(rep=reps[2]).delete()
        GoalFactory.create(
            title="g", rep=reps[3], metric="events.post_published", target=1, start_date=DAY, end_date=DAY,
            status="achieved",
        )  # fmt: skip
        assert BadgeAward.objects.filter(rep__in=reps).exists()
        thresholds = settings_get(acme)["level_thresholds"]
        everyone = [r.pk for r in Rep.objects.order_by("id")]  # other tests' reps in the id range too
        sparse = [reps[0].pk, reps[5].pk, reps[-1].pk]
        for day in (DAY, DAY - timedelta(days=5), DAY - timedelta(days=130)):
            for period_start in (None, day - timedelta(days=20)):
                for asked in ([r.pk for r in reps], sparse, everyone):
                    got = metrics_load(
                        tenant=acme, rep_ids=asked, refs=REFS, day=day, period_start=period_start
                    )
                    assert got.keys() == set(asked)
                    for rep in reps:
                        if rep.pk in asked:
                            rep.refresh_from_db()
                            want = expected(rep, day, tz, mode, thresholds, period_start)
                            assert_same(got[rep.pk], want, rep.external_id)
            streaks = reps_streaks(tenant=acme, rep_ids=[r.pk for r in reps], today=day)
            for rep in reps:
                days = set(Activity.objects.filter(rep=rep).values_list("local_day", flat=True))
                assert streaks[rep.pk] == streak(days, today=day, mode=mode), rep.external_id
