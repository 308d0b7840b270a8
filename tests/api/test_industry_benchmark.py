"""The industry benchmark (docs/scoring.md#industry-benchmark): the settings, the computation of
a day, and each tenant's place in it on ``/reps/{id}/ssi``, the rep card and ``/company/ssi``.

Six tenants: acme and globex (the session's), and four made once for this module (committed,
dropped at its end). Snapshots are written by the factories on D = 2026-03-10, with the day's
summaries stored as every writer of snapshots stores them. The scenario, all `software-it`:

| tenant | reps on D and their SSI          | company mean                |
|--------|----------------------------------|-----------------------------|
| acme   | 90, 60 x 8, 30                   | 600 / 10 = 60.00            |
| globex | 95, 50 x 9                       | 545 / 10 = 54.50            |
| bm-c   | 60 x 10                          | 60.00 (a tie with acme)     |
| bm-d   | 40 x 10                          | 40.00                       |
| bm-e   | 70 x 10                          | 70.00                       |
| bm-f   | 55.10, 55 x 9 (when it scores D) | 550.10 / 10 = 55.01         |

Five companies (acme to bm-e), 50 reps: published. The industry's reps at each SSI:
95: 1, 90: 1, 70: 10, 60: 18, 50: 9, 40: 10, 30: 1.

- acme's rep at 90: 1 higher (95): rank 2, top ceil(200 / 50) = 4.
- acme's reps at 60 and bm-c's (a tie across tenants): 1 + 1 + 10 = 12 higher: rank 13,
  top ceil(1300 / 50) = 26.
- acme's rep at 30: 49 higher: rank 50, top 100. globex's reps at 50: 30 higher: rank 31, top 62.
- Companies: acme and bm-c tie at 60.00 under bm-e's 70.00: both rank 2, top ceil(200 / 5) = 40;
  globex (54.50) rank 4, top 80. Median of 40, 54.50, 60, 60, 70: 60.00.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import CommandError, call_command

from access.models import AuditEntry
from scoring.models import ScoreSnapshot, SsiSummary
from scoring.services.benchmark import compute_benchmarks
from scoring.services.summaries import ssi_summaries_refresh
from scoring.tasks import compute_benchmarks as compute_benchmarks_task
from tenants.benchmark import mean_of_histogram, median_of, top_percent
from tenants.models import Benchmark, BenchmarkCompany, Tenant
from tenants.services import tenant_delete
from tests.factories.scoring import RepFactory, ScoreSnapshotFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import TenantKeys, World, committed_tenant_made, in_tenant

D = date(2026, 3, 10)
SOFTWARE = "software-it"
EXTRA = {"bm-c": "Cobalt Ltd", "bm-d": "Dynamo GmbH", "bm-e": "Ember SA", "bm-f": "Falcon BV"}
SCORES: dict[str, list[float]] = {
    "acme": [90.0] + [60.0] * 8 + [30.0],
    "globex": [95.0] + [50.0] * 9,
    "bm-c": [60.0] * 10,
    "bm-d": [40.0] * 10,
    "bm-e": [70.0] * 10,
    "bm-f": [55.10] + [55.0] * 9,
}
FIVE = ("acme", "globex", "bm-c", "bm-d", "bm-e")


@pytest.fixture(scope="module")
def extra(world: World, django_db_blocker: Any) -> Iterator[dict[str, TenantKeys]]:
    """Four more tenants, committed for the module and dropped after it."""
    from contextlib import ExitStack

    with django_db_blocker.unblock():
        for tenant in Tenant.objects.filter(slug__in=EXTRA):  # left by an interrupted run
            tenant_delete(tenant=tenant)
    with ExitStack() as stack:
        yield {
            slug: stack.enter_context(committed_tenant_made(slug, django_db_blocker, name=name, tz="UTC"))
            for slug, name in EXTRA.items()
        }


@pytest.fixture(autouse=True)
def _rolled_back(db: None) -> None:
    """Every test in a transaction rolled back, the module's tenants' data included (``extra``
    leaves the database unblocked while the module runs)."""


def client(slug: str, world: World, extra: dict[str, TenantKeys]) -> ApiClient:
    keys = {"acme": world.acme, "globex": world.globex, **extra}[slug]
    return ApiClient(keys.host, keys.admin)


def take_part(slug: str, *, industry: str | None = SOFTWARE, benchmark: bool = True) -> None:
    tenant = Tenant.objects.get(slug=slug)
    tenant.settings = {**tenant.settings, "industry": industry, "benchmark": benchmark}
    tenant.save(update_fields=["settings"])


def score(slug: str, ssis: Sequence[float], day: date = D) -> None:
    """The tenant's reps ``<slug>-0``, ``<slug>-1``, … with these SSI on ``day``."""
    with in_tenant(slug):
        for i, ssi in enumerate(ssis):
            rep = RepFactory.create(external_id=f"{slug}-{i}", name=f"{slug} rep {i}")
            ScoreSnapshotFactory.create(rep=rep, day=day, ssi=ssi, brand=ssi / 4)
        ssi_summaries_refresh(days=[day])


def world_of(slugs: Sequence[str], *, scored: Sequence[str] | None = None) -> None:
    """``slugs`` take part in software-it; those of ``scored`` (default: all) have scored D."""
    for slug in slugs:
        take_part(slug)
        if scored is None or slug in scored:
            score(slug, SCORES[slug])


def change(entry: AuditEntry, name: str) -> tuple[Any, Any]:
    """A setting before and after an audited change."""
    return (entry.before or {}).get(name), (entry.after or {}).get(name)


def rep_industry(api: ApiClient, rep: str, day: date = D) -> Any:
    response = api.get(f"/api/v1/reps/{rep}/ssi", {"date": day.isoformat()})
    assert response.status_code == 200, response.content
    return response.json()["industry"]


def company_industry(api: ApiClient, day: date = D) -> Any:
    response = api.get("/api/v1/company/ssi", {"date": day.isoformat()})
    assert response.status_code == 200, response.content
    return response.json()["industry"]


# --- The arithmetic ------------------------------------------------------------------------


def test_top_percent_rounds_up() -> None:
    assert top_percent(12, 418) == 3  # 2.87
    assert top_percent(13, 60) == 22  # 21.67
    assert top_percent(5, 5) == 100
    assert top_percent(1, 200) == 1


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two_rounded_half_away_from_zero() -> None:
    means = [Decimal("40.00"), Decimal("54.50"), Decimal("55.01"), Decimal("60.00"), Decimal("60.00")]
    assert median_of(means) == Decimal("55.01")
    assert median_of([*means, Decimal("70.00")]) == Decimal("57.51")  # (55.01 + 60) / 2 = 57.505


def test_a_histograms_mean_is_the_company_mean_rounded_half_away_from_zero() -> None:
    # (70 + 40 + 39.99 + 10.03) / 4 = 40.005
    assert mean_of_histogram({7000: 1, 4000: 1, 3999: 1, 1003: 1}) == Decimal("40.01")


# --- Settings --------------------------------------------------------------------------------


def test_an_admin_sets_industry_and_benchmark_and_each_change_is_audited(acme: ApiClient) -> None:
    assert acme.get("/api/v1/settings").json().items() >= {"industry": None, "benchmark": False}.items()
    response = acme.patch("/api/v1/settings", {"industry": "software-it", "benchmark": True})
    assert response.status_code == 200, response.content
    assert (response.json()["industry"], response.json()["benchmark"]) == ("software-it", True)
    assert acme.patch("/api/v1/settings", {"industry": None}).json()["industry"] is None
    with in_tenant("acme"):
        entries = list(AuditEntry.objects.filter(target_type="settings").order_by("id"))
    assert [change(e, "industry") for e in entries] == [
        (None, "software-it"),
        ("software-it", None),
    ]
    assert [change(e, "benchmark") for e in entries] == [(False, True), (True, True)]


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        ({"industry": "software"}, "industry", "invalid_choice"),
        ({"industry": 3}, "industry", "invalid_choice"),
        ({"industry": ["retail"]}, "industry", "invalid_choice"),
        ({"benchmark": "yes"}, "benchmark", "invalid_type"),
        ({"benchmark": None}, "benchmark", "invalid_type"),
    ],
)
def test_a_bad_industry_or_benchmark_is_a_400_naming_it(
    acme: ApiClient, body: dict[str, Any], attr: str, code: str
) -> None:
    response = acme.patch("/api/v1/settings", body)
    assert_error(response, 400, code, attr)
    assert acme.get("/api/v1/settings").json()["industry"] is None


def test_the_platform_sets_industry_and_benchmark_and_the_tenant_audit_log_records_it(
    platform: ApiClient, acme: ApiClient
) -> None:
    assert platform.get("/api/v1/platform/tenants/acme").json()["benchmark"] is False
    response = platform.patch("/api/v1/platform/tenants/acme", {"industry": "retail", "benchmark": True})
    assert response.status_code == 200, response.content
    assert (response.json()["industry"], response.json()["benchmark"]) == ("retail", True)
    assert acme.get("/api/v1/settings").json().items() >= {"industry": "retail", "benchmark": True}.items()
    assert_error(platform.patch("/api/v1/platform/tenants/acme", {"industry": "shipping"}), 400)
    # Leaving them out leaves them as they are; null clears the industry.
    assert platform.patch("/api/v1/platform/tenants/acme", {"name": "Acme"}).json()["industry"] == "retail"
    assert platform.patch("/api/v1/platform/tenants/acme", {"industry": None}).json()["industry"] is None
    with in_tenant("acme"):
        entries = list(AuditEntry.objects.filter(target_type="tenant").order_by("id"))
    assert entries[0].actor_kind == "platform"
    assert change(entries[0], "industry") == (None, "retail")
    assert change(entries[0], "benchmark") == (False, True)
    assert change(entries[-1], "industry") == ("retail", None)


# --- What a day's benchmark shows -------------------------------------------------------------


def test_five_companies_and_fifty_reps_are_ranked_as_computed_by_hand(
    world: World, extra: dict[str, TenantKeys]
) -> None:
    world_of(FIVE)
    results = compute_benchmarks(D)
    assert [(r.industry, r.companies, r.reps, r.published) for r in results] == [(SOFTWARE, 5, 50, True)]
    acme = client("acme", world, extra)
    assert rep_industry(acme, "acme-0") == {
        "industry": SOFTWARE,
        "rank": 2,
        "top_percent": 4,
        "reps": 50,
        "companies": 5,
    }
    tie = {"industry": SOFTWARE, "rank": 13, "top_percent": 26, "reps": 50, "companies": 5}
    assert rep_industry(acme, "acme-1") == tie
    explained = acme.get("/api/v1/reps/acme-1/ssi/explain", {"date": D.isoformat()}).json()
    assert explained["industry"] == tie
    assert rep_industry(acme, "acme-8") == tie
    assert rep_industry(client("bm-c", world, extra), "bm-c-4") == tie  # the same SSI in another tenant
    assert rep_industry(acme, "acme-9").items() >= {"rank": 50, "top_percent": 100}.items()
    globex_rep = rep_industry(client("globex", world, extra), "globex-3")
    assert globex_rep.items() >= {"rank": 31, "top_percent": 62}.items()
    company = {
        "industry": SOFTWARE,
        "rank": 2,
        "top_percent": 40,
        "companies": 5,
        "reps": 50,
        "median_company_mean": 60.0,
    }
    assert company_industry(acme) == company
    assert company_industry(client("bm-c", world, extra)) == company  # the tie
    assert company_industry(client("globex", world, extra)).items() >= {"rank": 4, "top_percent": 80}.items()
    assert company_industry(client("bm-e", world, extra)).items() >= {"rank": 1, "top_percent": 20}.items()


def test_the_rep_card_carries_the_place_of_its_latest_snapshot(
    world: World, extra: dict[str, TenantKeys]
) -> None:
    world_of(FIVE)
    compute_benchmarks(D)
    card = client("acme", world, extra).get("/api/v1/reps/acme-0").json()
    assert card["ssi"]["date"] == D.isoformat()
    assert card["ssi"]["industry"] == {
        "industry": SOFTWARE,
        "rank": 2,
        "top_percent": 4,
        "reps": 50,
        "companies": 5,
    }
    # A later snapshot with no benchmark of its day: the card shows that day, and no place.
    with in_tenant("acme"):
        rep = ScoreSnapshot.objects.get(rep__external_id="acme-0", day=D).rep
        ScoreSnapshotFactory.create(rep=rep, day=date(2026, 3, 11), ssi=91.0)
    card = client("acme", world, extra).get("/api/v1/reps/acme-0").json()
    assert (card["ssi"]["date"], card["ssi"]["industry"]) == ("2026-03-11", None)


def test_four_companies_are_not_published(world: World, extra: dict[str, TenantKeys]) -> None:
    # 4 companies with 50 reps: bm-f's 10 instead of bm-e's, bm-e in another industry.
    world_of(("acme", "globex", "bm-c", "bm-d", "bm-f"))
    world_of(("bm-e",))
    take_part("bm-e", industry="retail")
    take_part("bm-f", benchmark=False)
    assert [(r.industry, r.companies, r.reps, r.published) for r in compute_benchmarks(D)] == [
        ("retail", 1, 10, False),
        (SOFTWARE, 4, 40, False),
    ]
    assert rep_industry(client("acme", world, extra), "acme-0") is None
    assert company_industry(client("acme", world, extra)) is None
    assert company_industry(client("bm-e", world, extra)) is None


def test_forty_nine_reps_are_not_published_and_fifty_are(world: World, extra: dict[str, TenantKeys]) -> None:
    world_of(FIVE)
    with in_tenant("bm-d"):
        snapshot = ScoreSnapshot.objects.select_related("rep").get(rep__external_id="bm-d-9", day=D)
        snapshot.delete()
        ssi_summaries_refresh(days=[D])
    assert [(r.companies, r.reps, r.published) for r in compute_benchmarks(D)] == [(5, 49, False)]
    assert rep_industry(client("acme", world, extra), "acme-0") is None
    assert company_industry(client("acme", world, extra)) is None
    with in_tenant("bm-d"):
        ScoreSnapshotFactory.create(rep=snapshot.rep, day=D, ssi=40.0)
        ssi_summaries_refresh(days=[D])
    assert [(r.companies, r.reps, r.published) for r in compute_benchmarks(D)] == [(5, 50, True)]
    assert rep_industry(client("acme", world, extra), "acme-0").items() >= {"rank": 2, "reps": 50}.items()


def test_thresholds_are_the_platforms_settings(
    world: World, extra: dict[str, TenantKeys], settings: Any
) -> None:
    world_of(FIVE)
    compute_benchmarks(D)
    settings.SSI_BENCHMARK_MIN_COMPANIES = 6
    assert company_industry(client("acme", world, extra)) is None
    settings.SSI_BENCHMARK_MIN_COMPANIES = 5
    settings.SSI_BENCHMARK_MIN_REPS = 51
    assert rep_industry(client("acme", world, extra), "acme-0") is None
    settings.SSI_BENCHMARK_MIN_REPS = 50
    assert rep_industry(client("acme", world, extra), "acme-0") is not None


def test_a_tenant_that_opts_out_drops_out_at_the_next_computation(
    world: World, extra: dict[str, TenantKeys]
) -> None:
    world_of((*FIVE, "bm-f"))
    assert [(r.companies, r.reps) for r in compute_benchmarks(D)] == [(6, 60)]
    ember = client("bm-e", world, extra)
    assert ember.patch("/api/v1/settings", {"benchmark": False}).status_code == 200
    # At once, the tenant that opted out sees no place; the others still the stored one.
    assert company_industry(ember) is None
    assert rep_industry(ember, "bm-e-0") is None
    assert company_industry(client("acme", world, extra)).items() >= {"companies": 6}.items()
    assert [(r.companies, r.reps) for r in compute_benchmarks(D)] == [(5, 50)]
    # Without bm-e's 70s: 95: 1, 90: 1, 60: 18, 55.10: 1, 55: 9, 50: 9, 40: 10, 30: 1. acme's rep
    # at 60: 2 higher, rank 3, top ceil(300 / 50) = 6. Means 60, 54.50, 60, 40, 55.01: acme
    # first (with bm-c), top 20; median 55.01.
    acme = client("acme", world, extra)
    assert rep_industry(acme, "acme-1") == {
        "industry": SOFTWARE,
        "rank": 3,
        "top_percent": 6,
        "reps": 50,
        "companies": 5,
    }
    assert company_industry(acme) == {
        "industry": SOFTWARE,
        "rank": 1,
        "top_percent": 20,
        "companies": 5,
        "reps": 50,
        "median_company_mean": 55.01,
    }
    assert not BenchmarkCompany.objects.filter(tenant__slug="bm-e").exists()


def test_a_tenant_that_scored_the_day_late_comes_in_on_a_rerun(
    world: World, extra: dict[str, TenantKeys]
) -> None:
    world_of((*FIVE, "bm-f"), scored=FIVE)
    assert [(r.companies, r.reps) for r in compute_benchmarks(D)] == [(5, 50)]
    falcon = client("bm-f", world, extra)
    score("bm-f", SCORES["bm-f"])
    assert rep_industry(falcon, "bm-f-0") is None  # not in the stored benchmark of D yet
    assert [(r.companies, r.reps) for r in compute_benchmarks(D)] == [(6, 60)]
    # bm-f's 55.10 has 1 + 1 + 10 + 18 = 30 higher: rank 31, top ceil(3100 / 60) = 52. Means
    # 40, 54.50, 55.01, 60, 60, 70: bm-f 4th, top ceil(400 / 6) = 67; median (55.01 + 60) / 2 =
    # 57.505 -> 57.51.
    assert rep_industry(falcon, "bm-f-0") == {
        "industry": SOFTWARE,
        "rank": 31,
        "top_percent": 52,
        "reps": 60,
        "companies": 6,
    }
    assert company_industry(falcon) == {
        "industry": SOFTWARE,
        "rank": 4,
        "top_percent": 67,
        "companies": 6,
        "reps": 60,
        "median_company_mean": 57.51,
    }
    acme_rep = rep_industry(client("acme", world, extra), "acme-1")
    assert acme_rep.items() >= {"rank": 13, "top_percent": 22}.items()


def test_a_tenant_not_taking_part_now_sees_nothing_even_when_its_industry_is_published(
    world: World, extra: dict[str, TenantKeys]
) -> None:
    world_of(FIVE)
    compute_benchmarks(D)
    take_part("bm-d", industry="retail")  # another industry since: no place in software-it's
    assert company_industry(client("bm-d", world, extra)) is None
    take_part("bm-d", industry=None)
    assert rep_industry(client("bm-d", world, extra), "bm-d-0") is None
    take_part("bm-d", benchmark=False)
    assert company_industry(client("bm-d", world, extra)) is None
    take_part("bm-d")  # back: its place is the stored one
    assert company_industry(client("bm-d", world, extra)).items() >= {"rank": 5, "top_percent": 100}.items()


def test_a_rep_without_a_snapshot_that_day_has_no_place(world: World, extra: dict[str, TenantKeys]) -> None:
    world_of(FIVE)
    compute_benchmarks(D)
    acme = client("acme", world, extra)
    assert_error(acme.get("/api/v1/reps/acme-0/ssi", {"date": "2026-03-09"}), 404, "no_snapshot")
    assert_error(acme.get("/api/v1/company/ssi", {"date": "2026-03-09"}), 404, "not_scored")


# --- What leaves a tenant, and what comes back -------------------------------------------------


def test_no_answer_names_another_tenant_or_carries_its_reps(
    world: World, extra: dict[str, TenantKeys]
) -> None:
    world_of(FIVE)
    compute_benchmarks(D)
    others = {slug: name for slug, name in EXTRA.items() if slug != "bm-c"} | {
        "globex": "Globex Corp",
        "acme": "Acme Inc",
    }
    cobalt = client("bm-c", world, extra)
    texts = [
        cobalt.get("/api/v1/reps/bm-c-0/ssi", {"date": D.isoformat()}).content.decode(),
        cobalt.get("/api/v1/reps/bm-c-0").content.decode(),
        cobalt.get("/api/v1/company/ssi", {"date": D.isoformat()}).content.decode(),
    ]
    for text in texts:
        body = json.loads(text)
        industry = body["industry"] if "industry" in body else body["ssi"]["industry"]
        assert set(industry) <= {
            "industry",
            "rank",
            "top_percent",
            "reps",
            "companies",
            "median_company_mean",
        }
        for slug, name in others.items():
            assert slug not in text and name not in text
            assert f"{slug}-" not in text  # no other tenant's rep
    # Stored in the public schema: counts per SSI and means, no rep, no name.
    benchmark = Benchmark.objects.get(industry=SOFTWARE, day=D)
    assert benchmark.histogram == {
        "9500": 1,
        "9000": 1,
        "7000": 10,
        "6000": 18,
        "5000": 9,
        "4000": 10,
        "3000": 1,
    }
    assert sorted(BenchmarkCompany.objects.filter(benchmark=benchmark).values_list("mean", flat=True)) == [
        Decimal("40.00"),
        Decimal("54.50"),
        Decimal("60.00"),
        Decimal("60.00"),
        Decimal("70.00"),
    ]


def test_a_day_without_a_stored_summary_gets_its_mean_from_the_counts(
    world: World, extra: dict[str, TenantKeys]
) -> None:
    world_of(FIVE)
    with in_tenant("globex"):
        SsiSummary.objects.filter(day=D).delete()
    compute_benchmarks(D)
    assert BenchmarkCompany.objects.get(tenant__slug="globex", benchmark__day=D).mean == Decimal("54.50")
    assert BenchmarkCompany.objects.get(tenant__slug="acme", benchmark__day=D).mean == Decimal("60.00")


def test_a_tenants_keys_read_only_its_own_place(world: World, extra: dict[str, TenantKeys]) -> None:
    world_of(FIVE)
    compute_benchmarks(D)
    globex = client("globex", world, extra)
    # globex's key on acme's rep is not found; on acme's host it is refused.
    assert_error(globex.get("/api/v1/reps/acme-0/ssi", {"date": D.isoformat()}), 404)
    wrong_host = ApiClient(world.acme.host, world.globex.admin)
    assert wrong_host.get("/api/v1/company/ssi", {"date": D.isoformat()}).status_code in (401, 403)
    # Each company reads its own mean's place.
    assert company_industry(globex)["rank"] == 4
    assert company_industry(client("acme", world, extra))["rank"] == 2


def test_a_rep_token_reads_its_own_place(world: World, extra: dict[str, TenantKeys]) -> None:
    from tests.support.rep_tokens import mint

    world_of(FIVE)
    compute_benchmarks(D)
    token = mint(client("acme", world, extra), "acme-9")["token"]
    own = ApiClient(world.acme.host, token)
    assert rep_industry(own, "acme-9").items() >= {"rank": 50, "top_percent": 100}.items()
    assert own.get("/api/v1/reps/acme-0/ssi", {"date": D.isoformat()}).status_code == 403


# --- Running it ---------------------------------------------------------------------------------


def test_the_command_reports_progress_and_a_rerun_replaces_the_day(
    world: World, extra: dict[str, TenantKeys]
) -> None:
    world_of(FIVE)
    out = StringIO()
    call_command("compute_benchmarks", "--date", D.isoformat(), stdout=out)
    lines = out.getvalue().splitlines()
    assert "acme: 10 reps with a snapshot on 2026-03-10" in lines
    assert "software-it 2026-03-10: 5 companies, 50 reps, published" in lines
    assert lines[-1].startswith("benchmark of 2026-03-10: 1 industry in ")
    call_command("compute_benchmarks", "--date", D.isoformat(), stdout=StringIO())
    assert Benchmark.objects.filter(day=D).count() == 1
    assert BenchmarkCompany.objects.filter(benchmark__day=D).count() == 5


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "10/03/2026", ""])
def test_the_command_refuses_a_bad_date(db: None, bad: str) -> None:
    with pytest.raises(CommandError, match="--date must be a date as YYYY-MM-DD"):
        call_command("compute_benchmarks", "--date", bad, stdout=StringIO())


def test_the_task_computes_a_day_and_beat_runs_it_daily_at_the_benchmark_hour(
    world: World, extra: dict[str, TenantKeys]
) -> None:
    world_of(FIVE)
    assert compute_benchmarks_task.apply(kwargs={"day": D.isoformat()}).get() == 1
    assert Benchmark.objects.get(day=D).companies == 5
    entry = settings.CELERY_BEAT_SCHEDULE["compute-benchmarks"]
    assert entry["task"] == "scoring.tasks.compute_benchmarks"
    assert entry["schedule"] == crontab(minute=0, hour=settings.SSI_BENCHMARK_HOUR_UTC)
    assert settings.SSI_BENCHMARK_HOUR_UTC == 12


# --- What it costs to read ----------------------------------------------------------------------


def test_taking_part_costs_one_small_query_more(
    world: World, extra: dict[str, TenantKeys], django_assert_max_num_queries: Any
) -> None:
    world_of(FIVE)
    compute_benchmarks(D)
    acme = client("acme", world, extra)
    routing_and_key = 2
    for path, own in (
        (f"/api/v1/reps/acme-0/ssi?date={D}", 1),
        ("/api/v1/reps/acme-0", 1),
        (f"/api/v1/company/ssi?date={D}", 1),
    ):
        assert acme.get(path).status_code == 200
        with django_assert_max_num_queries(routing_and_key + own + 1) as captured:
            response = acme.get(path)
        assert response.status_code == 200
        sql = [q["sql"] for q in captured.captured_queries]
        assert len(sql) == routing_and_key + own + 1, sql
        assert "tenants_benchmark" in sql[-1], sql
    take_part("acme", benchmark=False)
    assert acme.get(f"/api/v1/company/ssi?date={D}").status_code == 200
    with django_assert_max_num_queries(routing_and_key + 1) as captured:
        assert acme.get(f"/api/v1/company/ssi?date={D}").json()["industry"] is None
    assert not any("tenants_benchmark" in q["sql"] for q in captured.captured_queries)


def test_the_task_without_a_day_computes_yesterdays_utc_date(
    world: World, extra: dict[str, TenantKeys]
) -> None:
    before = datetime.now(UTC).date() - timedelta(days=1)
    for slug in FIVE:
        take_part(slug)
        score(slug, SCORES[slug], day=before)
    assert compute_benchmarks_task.apply().get() == 1
    after = datetime.now(UTC).date() - timedelta(days=1)
    assert Benchmark.objects.get(industry=SOFTWARE).day in {before, after}


# --- One module reads several tenants ----------------------------------------------------------


def test_only_the_benchmark_modules_touch_the_tenant_keyed_means() -> None:
    """The company means are keyed by tenant: one module writes them (from the one module that
    reads several tenants' schemas), and one reads them and answers counts, never the keys."""
    root = Path(__file__).resolve().parents[2]
    layers = ("core", "tenants", "access", "scoring", "gamification", "provisioning", "api", "console")
    names = ("BenchmarkCompany", "benchmarkcompany", "benchmarks_replace")
    users = {
        str(path.relative_to(root))
        for folder in layers
        for path in (root / folder).rglob("*.py")
        if "migrations" not in path.parts and any(name in path.read_text() for name in names)
    }
    assert users == {"tenants/models.py", "tenants/benchmark.py", "scoring/services/benchmark.py"}
    readers = {
        str(path.relative_to(root))
        for folder in layers
        for path in (root / folder).rglob("*.py")
        if "schema_context" in path.read_text()
    }
    assert readers == {"scoring/services/benchmark.py"}
