"""Chat webhooks end to end through the outbox: the events the product writes, fanned out and
tried by the delivery service, POSTed to local receivers that answer as Slack and Teams do
(400 to a message they would refuse: tests/support/chat_formats.py).

The services are called directly, as in test_webhooks_delivery.py; test_chat_worker.py runs the
same path through a real Celery worker.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from gamification.models import OutboxEvent, WebhookDelivery
from gamification.services.badges import award_payload
from gamification.services.goals import goal_payload
from gamification.services.outbox import event_emit
from gamification.webhooks.services import delivery_run, outbox_dispatch
from tests.factories.gamification import (
    BadgeAwardFactory,
    BadgeFactory,
    GoalFactory,
    WebhookDeliveryFactory,
    WebhookSubscriptionFactory,
)
from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.chat_formats import slack_problems, teams_problems, teams_text
from tests.support.http import ApiClient
from tests.support.tenants import in_tenant
from tests.support.webhooks import Receiver, running_receiver, signed_with

ANNOUNCED = ["badge.awarded", "level.up", "goal.achieved"]


@pytest.fixture
def slack() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        receiver.validate = slack_problems
        yield receiver


@pytest.fixture
def teams() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        receiver.validate = teams_problems
        yield receiver


def subscribe(client: ApiClient, url: str, format: str, events: list[str]) -> dict[str, Any]:
    answer = client.post("/api/v1/webhooks", {"url": url, "events": events, "format": format})
    assert answer.status_code == 201, answer.content
    created: dict[str, Any] = answer.json()
    return created


def run_until_done(slug: str, max_rounds: int = 20) -> None:
    """Dispatch the outbox and try every due delivery until none is pending (backoff set to 0)."""
    with in_tenant(slug), override_settings(SSI_WEBHOOK_BACKOFF_SECONDS=0):
        outbox_dispatch()
        for _ in range(max_rounds):
            pending = [
                str(pk)
                for pk in WebhookDelivery.objects.filter(status="pending").values_list("pk", flat=True)
            ]
            if not pending:
                return
            for delivery_id in pending:
                delivery_run(delivery_id=delivery_id)
    raise AssertionError("deliveries still pending")


def slack_text(request: Any) -> str:
    text: str = json.loads(request.body)["blocks"][0]["text"]["text"]
    return text


def emit_the_three_announced_events() -> None:
    """What badges, levels and goals write, with their own payload functions."""
    ann = RepFactory.create(external_id="u-1001", name="Ann Example")
    north = TeamFactory.create(name="North")
    award = BadgeAwardFactory.create(rep=ann, badge=BadgeFactory.create(name="Thought leader"))
    goal = GoalFactory.create(
        title="Team SSI 70", rep=None, team=north, metric="ssi", target=70, aggregate="avg"
    )
    event_emit(type="badge.awarded", data=award_payload(award))
    event_emit(type="level.up", data={"rep": "u-1001", "level": 3, "xp": 320})
    event_emit(type="goal.achieved", data=goal_payload(goal, 71.5))


def test_a_slack_webhook_gets_one_signed_message_per_announced_event(
    acme: ApiClient, slack: Receiver
) -> None:
    created = subscribe(acme, slack.url("/services/T000/B000/XXXX"), "slack", ANNOUNCED)
    with in_tenant("acme"):
        emit_the_three_announced_events()
    run_until_done("acme")
    requests = slack.wait_for(3)
    with in_tenant("acme"):
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}  # no 400
    by_event = {r.headers["X-SSI-Event"]: r for r in requests}
    assert slack_text(by_event["badge.awarded"]) == "🏅 Ann Example earned the badge *Thought leader*"
    assert slack_text(by_event["level.up"]) == "⭐ Ann Example reached *level 3* (320 XP)"
    assert (
        slack_text(by_event["goal.achieved"]) == "🎯 Team North achieved the goal *Team SSI 70* (71.5 of 70)"
    )
    for request in requests:
        assert request.path == "/services/T000/B000/XXXX"
        assert request.headers["Content-Type"] == "application/json"
        assert signed_with(created["secret"], request)
        assert slack_problems(request.body) == []


def test_a_teams_webhook_gets_one_adaptive_card_per_announced_event(acme: ApiClient, teams: Receiver) -> None:
    created = subscribe(acme, teams.url("/webhookb2/abc"), "teams", ANNOUNCED)
    with in_tenant("acme"):
        emit_the_three_announced_events()
    run_until_done("acme")
    requests = teams.wait_for(3)
    with in_tenant("acme"):
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}
    by_event = {r.headers["X-SSI-Event"]: teams_text(r.body) for r in requests}
    assert by_event == {
        "badge.awarded": ["🏅 Badge earned", "Ann Example earned the badge Thought leader"],
        "level.up": ["⭐ Level up", "Ann Example reached level 3 (320 XP)"],
        "goal.achieved": ["🎯 Goal achieved", "Team North achieved the goal Team SSI 70 (71.5 of 70)"],
    }
    assert all(signed_with(created["secret"], r) for r in requests)


def test_events_a_chat_format_does_not_announce_go_to_json_webhooks_only(
    acme: ApiClient, slack: Receiver, teams: Receiver
) -> None:
    subscribe(acme, slack.url(), "slack", ["level.up"])
    subscribe(acme, teams.url(), "teams", ["level.up"])
    with running_receiver() as plain:
        subscribe(acme, plain.url(), "json", ["*"])
        with in_tenant("acme"):
            event_emit(type="goal.missed", data={"id": 1, "title": "x", "rep": "u-1", "team": None})
            event_emit(type="scores.computed", data={"date": "2025-01-02", "reps": 3, "config_version": 1})
            event_emit(type="level.up", data={"rep": "u-1", "level": 2, "xp": 100})
        run_until_done("acme")
        assert sorted(r.headers["X-SSI-Event"] for r in plain.wait_for(3)) == [
            "goal.missed", "level.up", "scores.computed",
        ]  # fmt: skip
    assert [r.headers["X-SSI-Event"] for r in slack.wait_for(1)] == ["level.up"]
    assert [r.headers["X-SSI-Event"] for r in teams.wait_for(1)] == ["level.up"]
    with in_tenant("acme"):
        assert WebhookDelivery.objects.count() == 5


def test_a_contest_end_is_announced_with_its_winners(
    acme: ApiClient, slack: Receiver, teams: Receiver
) -> None:
    """contest.ended is not an event of this build yet: the subscriptions and the event are made by
    hand, in the shape docs/webhooks.md gives it, and go through the same outbox."""
    with in_tenant("acme"):
        RepFactory.create(external_id="u-1", name="Ann Example")
        RepFactory.create(external_id="u-2", name="Bo & <Co>")
        south = TeamFactory.create(name="South")
        for receiver, format in ((slack, "slack"), (teams, "teams")):
            WebhookSubscriptionFactory.create(url=receiver.url(), format=format, events=["contest.ended"])
        OutboxEvent.objects.create(
            type="contest.ended",
            data={
                "contest": {"id": 7, "name": "June push", "kind": "leaderboard"},
                "winners": [
                    {"rank": 1, "rep": "u-1"},
                    {"rank": 2, "rep": "u-2"},
                    {"rank": 3, "team": south.pk},
                ],
            },
        )
    run_until_done("acme")
    (to_slack,), (to_teams,) = slack.wait_for(1), teams.wait_for(1)
    assert slack_text(to_slack) == (
        "🏆 The contest *June push* has ended.\n🥇 *Ann Example*\n🥈 *Bo &amp; &lt;Co&gt;*\n🥉 *South*"
    )
    assert teams_text(to_teams.body) == [
        "🏆 Contest ended", "The contest June push has ended.", "🥇 Ann Example", "🥈 Bo & <Co>", "🥉 South",
    ]  # fmt: skip
    assert to_slack.headers["X-SSI-Event"] == "contest.ended"
    with in_tenant("acme"):
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_a_chat_message_is_retried_like_json_with_the_same_body(acme: ApiClient, slack: Receiver) -> None:
    subscribe(acme, slack.url(), "slack", ["level.up"])
    slack.fail_next = 2
    with in_tenant("acme"):
        event_emit(type="level.up", data={"rep": "u-1", "level": 2, "xp": 100})
    run_until_done("acme")
    requests = slack.wait_for(3)
    assert len({r.body for r in requests}) == 1 and len({r.headers["X-SSI-Delivery"] for r in requests}) == 1
    with in_tenant("acme"):
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, [t.status_code for t in delivery.tries.all()]) == (
            "succeeded",
            [500, 500, 200],
        )


def test_a_delivery_queued_before_the_webhook_became_a_chat_one_is_not_sent(
    acme: ApiClient, slack: Receiver
) -> None:
    with in_tenant("acme"):
        hook = WebhookSubscriptionFactory.create(url=slack.url(), events=["*"])
        queued = WebhookDeliveryFactory.create(
            subscription=hook, event=event_emit(type="scores.computed", data={"date": "2025-01-02"})
        )
    answer = acme.patch(f"/api/v1/webhooks/{hook.pk}", {"format": "slack", "events": ["level.up"]})
    assert answer.status_code == 200, answer.content
    with in_tenant("acme"):
        assert delivery_run(delivery_id=str(queued.pk)) is None
        queued.refresh_from_db()
    assert (queued.status, queued.attempts) == ("failed", 0)
    assert queued.last_error == "Not sent: a slack webhook does not announce scores.computed."
    assert slack.requests == []


def test_a_receiver_that_refuses_the_shape_fails_the_try_with_its_reason(acme: ApiClient) -> None:
    """The validating receiver is no rubber stamp: a JSON envelope sent to it is refused."""
    with running_receiver() as receiver:
        receiver.validate = slack_problems
        subscribe(acme, receiver.url(), "json", ["level.up"])
        with in_tenant("acme"), override_settings(SSI_WEBHOOK_MAX_TRIES=1):
            event_emit(type="level.up", data={"rep": "u-1", "level": 2, "xp": 100})
            outbox_dispatch()
            (delivery,) = WebhookDelivery.objects.all()
            delivery_run(delivery_id=str(delivery.pk))
            delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == ("failed", 400)
