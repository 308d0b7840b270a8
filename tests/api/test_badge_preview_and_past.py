"""Badge rules over the past (docs/gamification.md#badge-preview-and-past-awards): the preview
of a new or changed badge (``POST /api/v1/badges/preview``) and ``award_past``.

Events go in through ``POST /api/v1/activities`` on acme (Europe/Berlin), at local times built
with the time zone database, so a period's bounds are the tenant's local ones. The past
awards run as the worker runs the job (``job_run``); counts are of this test's reps only (the
tenant may hold others).
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from access.models import AuditEntry
from core.clock import local_today
from gamification.models import Badge, BadgeAward, OutboxEvent, WebhookDelivery, WebhookSubscription, XpDaily
from gamification.services.badges import badges_evaluate, period_key
from gamification.services.outbox import PACE_HORIZON
from gamification.webhooks.services import outbox_dispatch
from scoring.models import Job, Rep
from scoring.services.jobs import job_create, job_run
from tests.factories.scoring import RepFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World, in_tenant

BADGES = "/api/v1/badges"
PREVIEW = "/api/v1/badges/preview"
TZ = "Europe/Berlin"
REPS = ("past-ann", "past-bob", "past-cy")


def today() -> date:
    return local_today(TZ)


def at(day: date, hour: int = 12, minute: int = 0) -> str:
    """A local time in Berlin (its offset from the time zone database)."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(TZ)).isoformat()


def posts(client: ApiClient, rep: str, *times: str) -> None:
    events = [
        {"id": f"{rep}-{moment}", "rep": rep, "type": "post_published", "occurred_at": moment}
        for moment in times
    ]
    response = client.post("/api/v1/activities", {"events": events})
    assert response.status_code == 200, response.content
    assert response.json()["rejected"] == [], response.content


@pytest.fixture
def reps(acme: ApiClient) -> None:
    with in_tenant("acme"):
        for name in REPS:
            RepFactory.create(external_id=name)


def badge(slug: str, criteria: dict[str, Any], repeat: str, **extra: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": slug.title(),
        "criteria": criteria,
        "repeat": repeat,
        "xp_reward": 50,
        **extra,
    }


def posts_at_least(value: int, window_days: int | None = None) -> dict[str, Any]:
    leaf: dict[str, Any] = {"metric": "events.post_published", "op": ">=", "value": value}
    if window_days is not None:
        leaf["window_days"] = window_days
    return leaf


def create_awarding_past(client: ApiClient, body: dict[str, Any]) -> str:
    """Create the badge with ``award_past`` and run its job as the worker would. Its job id."""
    response = client.post(BADGES, {**body, "award_past": True})
    assert response.status_code == 201, response.content
    job = response.json()["job"]
    assert job["status"] == "queued"
    run(job["id"])
    return str(job["id"])


def run(job_id: str) -> Job:
    with in_tenant("acme") as tenant:
        job_run(tenant=tenant, job_id=job_id)
        return Job.objects.get(pk=job_id)


def awards(slug: str) -> list[tuple[str, str]]:
    with in_tenant("acme"):
        return sorted(
            BadgeAward.objects.filter(badge__slug=slug, rep__external_id__in=REPS).values_list(
                "rep__external_id", "period"
            )
        )


def award_events(slug: str) -> list[dict[str, Any]]:
    with in_tenant("acme"):
        return [
            e.data
            for e in OutboxEvent.objects.filter(type="badge.awarded", data__badge=slug).order_by("created_at")
            if e.data["rep"] in REPS
        ]


def ledger(rep: str, days: list[date]) -> list[int]:
    """The rep's XP of each day in the daily ledger."""
    with in_tenant("acme"):
        xp = dict(XpDaily.objects.filter(rep__external_id=rep, day__in=days).values_list("day", "xp"))
        return [xp.get(day, 0) for day in days]


def xp_of(rep: str) -> int:
    with in_tenant("acme"):
        return Rep.objects.get(external_id=rep).xp


# --- award_past, each repeat kind ----------------------------------------------------------------------


def test_a_weekly_badge_is_awarded_for_the_past_iso_weeks_that_qualify_in_local_time(
    acme: ApiClient, reps: None
) -> None:
    monday = today() - timedelta(days=today().weekday())
    w3, w2, w1 = monday - timedelta(days=21), monday - timedelta(days=14), monday - timedelta(days=7)
    # W-3: Tuesday noon and Sunday 23:30 local (Sunday 22:30 UTC): 2 posts. W-2: Monday 00:30 local
    # (Sunday 23:30 UTC: W-3 in UTC) and Wednesday: 2 posts in Berlin. W-1: 1 post.
    posts(acme, "past-ann", at(w3 + timedelta(days=1)), at(w3 + timedelta(days=6), 23, 30))
    posts(acme, "past-ann", at(w2, 0, 30), at(w2 + timedelta(days=2)))
    posts(acme, "past-ann", at(w1 + timedelta(days=3)))
    posts(acme, "past-bob", at(w1 + timedelta(days=3)))
    xp_before = xp_of("past-ann")
    sundays = [w3 + timedelta(days=6), w2 + timedelta(days=6), w1 + timedelta(days=6)]
    ledger_before = ledger("past-ann", sundays)

    job_id = create_awarding_past(acme, badge("weekly-two", posts_at_least(2, window_days=7), "weekly"))

    expected = [("past-ann", period_key("weekly", w3)), ("past-ann", period_key("weekly", w2))]
    assert awards("weekly-two") == expected
    assert xp_of("past-ann") == xp_before + 2 * 50
    # Credited on the day evaluated, each qualifying week's Sunday, as a recompute of it would.
    after = ledger("past-ann", sundays)
    assert [after[k] - ledger_before[k] for k in range(3)] == [50, 50, 0]
    assert [(e["rep"], e["period"]) for e in award_events("weekly-two")] == expected
    job = acme.get(f"/api/v1/jobs/{job_id}").json()
    assert job["kind"] == "badge_past"
    assert job["status"] == "succeeded"
    assert job["result"]["badge"] == "weekly-two"
    assert job["progress"]["done"] == job["progress"]["total"] == job["result"]["periods"]


def test_a_daily_badge_with_a_window_is_evaluated_as_of_each_past_day(acme: ApiClient, reps: None) -> None:
    d = today()
    # 1 post 5 days ago, 1 four days ago, 2 two days ago, none yesterday, 3 today.
    posts(acme, "past-ann", at(d - timedelta(days=5)), at(d - timedelta(days=4)))
    posts(acme, "past-ann", at(d - timedelta(days=2), 9), at(d - timedelta(days=2), 10))
    # Today's just after local midnight: ingestion takes events up to 5 minutes ahead, whatever the hour now.
    posts(acme, "past-ann", at(d, 0, 1), at(d, 0, 2), at(d, 0, 3))

    create_awarding_past(acme, badge("two-in-two-days", posts_at_least(2, window_days=2), "daily"))

    # Windows of 2 days ending: d-5: 1; d-4: 2; d-3: 1; d-2: 2; d-1: 2. Today is not a past period.
    assert awards("two-in-two-days") == sorted(
        ("past-ann", (d - timedelta(days=k)).isoformat()) for k in (4, 2, 1)
    )


def test_a_monthly_badge_without_a_window_counts_every_event_up_to_each_months_last_day(
    acme: ApiClient, reps: None
) -> None:
    first_of_month = today().replace(day=1)
    m1 = (first_of_month - timedelta(days=1)).replace(day=1)  # last month
    m2 = (m1 - timedelta(days=1)).replace(day=1)
    m3 = (m2 - timedelta(days=1)).replace(day=1)
    # One post in M-3, one in M-2 (two in all by its end), none in M-1.
    posts(acme, "past-ann", at(m3 + timedelta(days=3)), at(m2 + timedelta(days=10)))
    # Bob's two posts are on M-1's last local day, late in the evening.
    last_day = first_of_month - timedelta(days=1)
    posts(acme, "past-bob", at(last_day, 23, 40), at(last_day, 23, 50))

    create_awarding_past(acme, badge("two-posts-monthly", posts_at_least(2), "monthly"))

    assert awards("two-posts-monthly") == [
        ("past-ann", period_key("monthly", m2)),
        ("past-ann", period_key("monthly", m1)),
        ("past-bob", period_key("monthly", m1)),
    ]


def test_a_once_badge_is_evaluated_as_of_today(acme: ApiClient, reps: None) -> None:
    posts(acme, "past-ann", *(at(today() - timedelta(days=k)) for k in (1, 9, 40)))
    posts(acme, "past-bob", at(today() - timedelta(days=3)))

    create_awarding_past(acme, badge("three-posts", posts_at_least(3), "once"))

    assert awards("three-posts") == [("past-ann", "")]


def test_creating_without_award_past_answers_no_job_and_awards_nothing_of_the_past(
    acme: ApiClient, reps: None
) -> None:
    posts(acme, "past-ann", at(today() - timedelta(days=8)), at(today() - timedelta(days=9)))
    response = acme.post(BADGES, badge("no-past", posts_at_least(1), "daily"))
    assert response.status_code == 201
    assert "job" not in response.json()
    assert awards("no-past") == []
    assert_error(acme.post(BADGES, {**badge("bad-flag", posts_at_least(1), "once"), "award_past": "yes"}),
                 400, "invalid_type", "award_past")  # fmt: skip


# --- exactly once --------------------------------------------------------------------------------------


def test_award_past_twice_awards_credits_and_announces_each_award_once(acme: ApiClient, reps: None) -> None:
    d = today()
    posts(acme, "past-ann", at(d - timedelta(days=3)), at(d - timedelta(days=2)))
    posts(acme, "past-bob", at(d - timedelta(days=2)))
    xp_before = {rep: xp_of(rep) for rep in REPS}
    create_awarding_past(acme, badge("daily-poster", posts_at_least(1, window_days=1), "daily"))
    first = awards("daily-poster")
    xp_after = {rep: xp_of(rep) for rep in REPS}
    assert first == [
        ("past-ann", (d - timedelta(days=3)).isoformat()),
        ("past-ann", (d - timedelta(days=2)).isoformat()),
        ("past-bob", (d - timedelta(days=2)).isoformat()),
    ]
    assert xp_after["past-ann"] - xp_before["past-ann"] == 100
    assert xp_after["past-bob"] - xp_before["past-bob"] == 50

    # The same work again, as a second job of the same badge.
    with in_tenant("acme") as tenant:
        badge_row = Badge.objects.get(slug="daily-poster")
        again = job_create(
            kind=Job.Kind.BADGE_PAST, days=[], params={"badge": badge_row.pk, "today": d.isoformat()}
        )
        job_run(tenant=tenant, job_id=str(again.pk))
        assert Job.objects.get(pk=again.pk).result["awarded"] >= 3

    assert awards("daily-poster") == first
    assert {rep: xp_of(rep) for rep in REPS} == xp_after
    assert len(award_events("daily-poster")) == 3


def test_a_run_that_died_midway_is_resumed_by_the_next_claim_without_awarding_twice(
    acme: ApiClient, reps: None
) -> None:
    d = today()
    posts(acme, "past-ann", *(at(d - timedelta(days=k)) for k in (1, 2, 3)))
    job_id = create_awarding_past(acme, badge("daily-resume", posts_at_least(1, window_days=1), "daily"))
    done = awards("daily-resume")
    with in_tenant("acme"):
        # As if its worker died after the first period committed: running, silent for an hour.
        stale = timezone.now() - timedelta(hours=1)
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.RUNNING, progress_done=1, heartbeat_at=stale, started_at=stale, finished_at=None
        )
    job = run(job_id)
    assert job.status == Job.Status.SUCCEEDED
    assert job.attempts == 2
    assert job.progress_done == job.progress_total
    assert awards("daily-resume") == done
    assert len(award_events("daily-resume")) == 3


def test_awards_of_the_past_reach_webhooks_paced_one_slot_apart(
    acme: ApiClient, reps: None, settings: Any
) -> None:
    settings.SSI_WEBHOOK_PACED_PER_MINUTE = 1  # one a minute: the horizon (5 min) holds 6 slots
    d = today()
    with in_tenant("acme"):
        WebhookSubscription.objects.create(
            url="https://hooks.example.com/a", events=["badge.awarded"], secret="s"
        )
        OutboxEvent.objects.filter(dispatched_at__isnull=True).update(dispatched_at=timezone.now())
    posts(acme, "past-ann", *(at(d - timedelta(days=k)) for k in range(1, 8)))
    create_awarding_past(acme, badge("paced", posts_at_least(1, window_days=1), "daily"))

    with in_tenant("acme"):
        events = list(
            OutboxEvent.objects.filter(type="badge.awarded", data__badge="paced").order_by("created_at")
        )
        assert len(events) == 7
        gaps = {(b.created_at - a.created_at).total_seconds() for a, b in itertools.pairwise(events)}
        assert gaps == {60.0}
        moment = timezone.now()
        outbox_dispatch()
        deliveries = {
            delivery.event_id: delivery.next_attempt_at
            for delivery in WebhookDelivery.objects.filter(event__in=[e.pk for e in events])
        }
        # The slots within the horizon are fanned out, each delivery waiting for its slot (or
        # due now); the last ones wait, undispatched, for a later fan-out (the sweep's).
        near = [e for e in events if e.created_at <= moment + PACE_HORIZON]
        assert 5 <= len(near) < 7
        assert set(deliveries) == {e.pk for e in near}
        for event in near:
            assert deliveries[event.pk] >= event.created_at
            assert deliveries[event.pk] <= max(event.created_at, timezone.now())
        assert OutboxEvent.objects.get(pk=events[6].pk).dispatched_at is None


# --- preview -------------------------------------------------------------------------------------------


def counts() -> dict[str, int]:
    with in_tenant("acme"):
        return {
            model.__name__: model.objects.count()
            for model in (Badge, BadgeAward, OutboxEvent, XpDaily, Job, AuditEntry, WebhookDelivery)
        } | {"xp": sum(Rep.objects.values_list("xp", flat=True))}


def mine(answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "would_award": [row for row in answer["would_award"] if row["rep"] in REPS],
        "would_lose": [rep for rep in answer["would_lose"] if rep in REPS],
    }


def test_the_preview_of_a_new_badge_lists_who_would_earn_it_now_and_writes_nothing(
    acme: ApiClient, reps: None
) -> None:
    d = today()
    posts(acme, "past-ann", at(d, 0, 1), at(d - timedelta(days=1)))  # today's: just after midnight
    posts(acme, "past-bob", at(d - timedelta(days=1)))
    before = counts()
    response = acme.post(
        PREVIEW, {**badge("preview-two", posts_at_least(2, window_days=7), "weekly"), "award_past": True}
    )
    assert response.status_code == 200, response.content
    assert mine(response.json()) == {
        "would_award": [{"rep": "past-ann", "period": period_key("weekly", d)}],
        "would_lose": [],
    }
    assert counts() == before
    # As creating would refuse it.
    assert_error(acme.post(PREVIEW, {"slug": "x", "criteria": posts_at_least(1)}), 400, "required", "name")
    bad = {**badge("x", {"metric": "nope", "op": ">=", "value": 1}, "once")}
    assert_error(acme.post(PREVIEW, bad), 400, attr="criteria.metric")


def test_the_preview_of_a_change_lists_new_earners_and_holders_that_would_no_longer_qualify(
    acme: ApiClient, reps: None
) -> None:
    d = today()
    posts(acme, "past-ann", at(d - timedelta(days=1)))
    posts(acme, "past-bob", *(at(d - timedelta(days=k)) for k in (1, 2, 3)))
    assert acme.post(BADGES, badge("poster", posts_at_least(1), "once")).status_code == 201
    with in_tenant("acme") as tenant:
        ids = list(Rep.objects.filter(external_id__in=REPS).values_list("id", flat=True))
        badges_evaluate(tenant=tenant, rep_ids=ids, day=d, ingest_time_only=False)
    assert awards("poster") == [("past-ann", ""), ("past-bob", "")]
    posts(acme, "past-cy", *(at(d - timedelta(days=k)) for k in (1, 2)))
    before = counts()

    response = acme.post(PREVIEW, {"slug": "poster", "changes": {"criteria": posts_at_least(2)}})

    assert response.status_code == 200, response.content
    # Cy (2 posts) would earn it; Bob holds it and still qualifies; Ann (1 post) would not.
    assert mine(response.json()) == {
        "would_award": [{"rep": "past-cy", "period": ""}],
        "would_lose": ["past-ann"],
    }
    assert counts() == before
    # A change to weekly: the current week's period; holders of "once" are judged on the new criteria.
    response = acme.post(PREVIEW, {"slug": "poster", "changes": {"repeat": "weekly", "active": False}})
    assert mine(response.json()) == {"would_award": [], "would_lose": []}
    assert_error(acme.post(PREVIEW, {"slug": "nothing-here", "changes": {}}), 404)
    assert_error(
        acme.post(PREVIEW, {"slug": "poster", "changes": {"slug": "other"}}), 400, "immutable", "changes.slug"
    )
    assert_error(
        acme.post(
            PREVIEW, {"slug": "poster", "changes": {"criteria": {"metric": "x", "op": ">=", "value": 1}}}
        ),
        400,
        attr="changes.criteria.metric",
    )
    assert counts() == before


def test_the_preview_of_ten_thousand_reps_loads_metrics_in_bulk(
    acme: ApiClient, world: World, django_assert_max_num_queries: Any
) -> None:
    with in_tenant("acme"):
        Rep.objects.bulk_create([Rep(external_id=f"bulk-{i}", name=f"Bulk {i}") for i in range(10_000)])
    body = badge(
        "bulk",
        {"all": [posts_at_least(1, window_days=7), {"metric": "ssi", "op": ">=", "value": 1}]},
        "weekly",
    )
    with django_assert_max_num_queries(40):
        response = acme.post(PREVIEW, body)
    assert response.status_code == 200, response.content


def test_the_slug_preview_is_reserved(acme: ApiClient) -> None:
    assert_error(acme.post(BADGES, badge("preview", posts_at_least(1), "once")), 400, "reserved", "slug")
