"""Head-to-head challenges (docs/contests.md#head-to-head-challenges).

acme (Europe/Berlin). Reps ann, bob, dan; cat is inactive. Challenges run 2 to 8 March 2026 on
``events.post_published`` and are finalized by the contests tick with ``now`` on 9 March.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from access.models import AuditEntry
from gamification.models import Challenge
from gamification.services.contest_finalize import contests_tick
from scoring.models import Rep
from tests.factories.scoring import RepFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World, in_tenant

CHALLENGES = "/api/v1/challenges"
# 2026-03-09 10:00 in Berlin: the challenges below (2 to 8 March) are over.
AFTER = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


@pytest.fixture
def people(acme: ApiClient) -> None:
    with in_tenant("acme"):
        for name in ("ann", "bob", "dan"):
            RepFactory.create(external_id=name)
        RepFactory.create(external_id="cat", active=False)


def rep_client(world: World, acme: ApiClient, rep: str) -> ApiClient:
    token = acme.post("/api/v1/rep-tokens", {"rep": rep}).json()["token"]
    return ApiClient(world.acme.host, token)


_seq = iter(range(1, 10_000))


def posts(client: ApiClient, rep: str, day: str, n: int) -> None:
    events = [
        {"id": f"h{next(_seq)}", "rep": rep, "type": "post_published", "occurred_at": f"{day}T12:00:00+01:00"}
        for _ in range(n)
    ]
    response = client.post("/api/v1/activities", {"events": events})
    assert response.status_code == 200 and response.json()["accepted"] == n, response.content


def challenge(**extra: Any) -> dict[str, Any]:
    return {
        "opponent": "bob",
        "metric": "events.post_published",
        "start_date": "2026-03-02",
        "end_date": "2026-03-08",
        **extra,
    }


def create(client: ApiClient, **extra: Any) -> dict[str, Any]:
    response = client.post(CHALLENGES, challenge(**extra))
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def xp_of() -> dict[str, int]:
    with in_tenant("acme"):
        return dict(Rep.objects.order_by("external_id").values_list("external_id", "xp"))


def tick(now: datetime = AFTER) -> tuple[list[int], list[int]]:
    with in_tenant("acme") as tenant:
        result = contests_tick(tenant=tenant, now=now)
    return result.challenges_expired, result.challenges_finalized


def test_a_rep_challenges_another_and_the_opponent_accepts(
    world: World, acme: ApiClient, people: None
) -> None:
    ann, bob = rep_client(world, acme, "ann"), rep_client(world, acme, "bob")
    body = create(ann)
    assert body["challenger"] == "ann" and body["opponent"] == "bob"
    assert body["status"] == "pending" and body["winner"] is None and body["xp_won"] == 0
    created = datetime.fromisoformat(body["created_at"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert expires - created == timedelta(hours=48)  # the default challenge_accept_hours

    accepted = bob.post(f"{CHALLENGES}/{body['id']}/accept", {})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted" and accepted.json()["responded_at"] is not None
    with in_tenant("acme"):
        actions = list(
            AuditEntry.objects.filter(target_type="challenge", target_id=str(body["id"]))
            .order_by("id")
            .values_list("action", "actor_kind")
        )
    assert actions == [("create", "rep"), ("accept", "rep")]
    again = bob.post(f"{CHALLENGES}/{body['id']}/accept", {})
    assert_error(again, 409, "challenge_accepted")


def test_the_higher_value_wins_challenge_xp_once(world: World, acme: ApiClient, people: None) -> None:
    # ann: 2 posts on the 3rd + 1 on the 8th = 3; bob: 2 on the 5th, 1 on the 9th (after the end) = 2.
    ann, bob = rep_client(world, acme, "ann"), rep_client(world, acme, "bob")
    body = create(ann)
    assert bob.post(f"{CHALLENGES}/{body['id']}/accept").status_code == 200
    posts(acme, "ann", "2026-03-03", 2)
    posts(acme, "ann", "2026-03-08", 1)
    posts(acme, "bob", "2026-03-05", 2)
    posts(acme, "bob", "2026-03-09", 1)
    posts(acme, "bob", "2026-03-01", 4)  # before the start
    live = ann.get(f"{CHALLENGES}/{body['id']}").json()
    assert (live["challenger_value"], live["opponent_value"]) == (3.0, 2.0)
    before = xp_of()

    assert tick(AFTER - timedelta(days=1)) == ([], [])  # 8 March in Berlin: not over yet
    assert tick() == ([], [body["id"]])
    assert tick() == ([], [])  # finalizing twice grants once
    with in_tenant("acme") as tenant:
        from gamification.services.challenges import challenge_finalize

        assert not challenge_finalize(tenant=tenant, challenge_id=body["id"], today=AFTER.date())
    after = xp_of()
    assert after["ann"] - before["ann"] == 50 and after["bob"] == before["bob"]

    ended = bob.get(f"{CHALLENGES}/{body['id']}").json()
    assert ended["status"] == "ended" and ended["winner"] == "ann" and ended["xp_won"] == 50
    assert (ended["challenger_value"], ended["opponent_value"]) == (3.0, 2.0)
    posts(acme, "bob", "2026-03-07", 5)  # late, inside the period: the ended challenge stays as it was
    late = bob.get(f"{CHALLENGES}/{body['id']}").json()
    assert (late["challenger_value"], late["opponent_value"], late["winner"]) == (3.0, 2.0, "ann")


def test_a_tie_wins_nothing(world: World, acme: ApiClient, people: None) -> None:
    ann, bob = rep_client(world, acme, "ann"), rep_client(world, acme, "bob")
    body = create(ann)
    assert bob.post(f"{CHALLENGES}/{body['id']}/accept").status_code == 200
    posts(acme, "ann", "2026-03-04", 2)
    posts(acme, "bob", "2026-03-06", 2)
    before = xp_of()
    assert tick() == ([], [body["id"]])
    assert xp_of() == before
    ended = acme.get(f"{CHALLENGES}/{body['id']}").json()
    assert ended["status"] == "ended" and ended["winner"] is None and ended["xp_won"] == 0
    assert (ended["challenger_value"], ended["opponent_value"]) == (2.0, 2.0)


def test_a_declined_challenge_never_runs(world: World, acme: ApiClient, people: None) -> None:
    ann, bob = rep_client(world, acme, "ann"), rep_client(world, acme, "bob")
    body = create(ann)
    declined = bob.post(f"{CHALLENGES}/{body['id']}/decline")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert_error(bob.post(f"{CHALLENGES}/{body['id']}/accept"), 409, "challenge_declined")
    posts(acme, "ann", "2026-03-04", 3)
    before = xp_of()
    assert tick() == ([], [])
    assert xp_of() == before
    assert acme.get(f"{CHALLENGES}/{body['id']}").json()["status"] == "declined"


def test_it_expires_at_the_hour_limit(world: World, acme: ApiClient, people: None) -> None:
    assert acme.patch("/api/v1/settings", {"challenge_accept_hours": 2}).status_code == 200
    ann, bob = rep_client(world, acme, "ann"), rep_client(world, acme, "bob")
    first, second = create(ann), create(ann)
    created = datetime.fromisoformat(first["created_at"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(first["expires_at"].replace("Z", "+00:00"))
    assert expires - created == timedelta(hours=2)
    assert tick(expires - timedelta(seconds=1))[0] == []  # a second before: still pending
    assert tick(expires)[0] == [first["id"]]  # at the limit: expired
    assert_error(bob.post(f"{CHALLENGES}/{first['id']}/accept"), 409, "challenge_expired")

    # Lazily on read too: the second's time runs out without a tick.
    with in_tenant("acme"):
        Challenge.objects.filter(pk=second["id"]).update(expires_at=datetime.now(UTC))
    assert ann.get(f"{CHALLENGES}/{second['id']}").json()["status"] == "expired"
    assert_error(bob.post(f"{CHALLENGES}/{second['id']}/decline"), 409, "challenge_expired")


def test_only_the_opponents_token_answers(world: World, acme: ApiClient, people: None) -> None:
    ann, dan = rep_client(world, acme, "ann"), rep_client(world, acme, "dan")
    body = create(ann)
    assert_error(ann.post(f"{CHALLENGES}/{body['id']}/accept"), 403, "not_opponent")
    assert_error(acme.post(f"{CHALLENGES}/{body['id']}/accept"), 403, "not_opponent")
    assert_error(dan.post(f"{CHALLENGES}/{body['id']}/accept"), 404, "not_found")  # not dan's to see
    assert acme.get(f"{CHALLENGES}/{body['id']}").json()["status"] == "pending"


def test_switched_off_challenges_cannot_be_created(world: World, acme: ApiClient, people: None) -> None:
    assert acme.get("/api/v1/settings").json()["challenges_enabled"] is True
    assert acme.patch("/api/v1/settings", {"challenges_enabled": False}).status_code == 200
    ann = rep_client(world, acme, "ann")
    assert_error(ann.post(CHALLENGES, challenge()), 403, "challenges_disabled")
    assert_error(acme.post(CHALLENGES, challenge(challenger="ann")), 403, "challenges_disabled")


def test_a_rep_token_sees_only_its_challenges(world: World, acme: ApiClient, people: None) -> None:
    ann, bob, dan = (rep_client(world, acme, r) for r in ("ann", "bob", "dan"))
    ann_bob = create(ann)
    bob_dan = create(acme, challenger="bob", opponent="dan")
    assert bob_dan["challenger"] == "bob"
    assert [c["id"] for c in ann.get(CHALLENGES).json()["results"]] == [ann_bob["id"]]
    assert [c["id"] for c in bob.get(CHALLENGES).json()["results"]] == [ann_bob["id"], bob_dan["id"]]
    assert [c["id"] for c in dan.get(CHALLENGES).json()["results"]] == [bob_dan["id"]]
    assert [c["id"] for c in acme.get(CHALLENGES).json()["results"]] == [ann_bob["id"], bob_dan["id"]]
    assert_error(ann.get(f"{CHALLENGES}/{bob_dan['id']}"), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "status", "code", "attr"),
    [
        (challenge(opponent="ann"), 400, "invalid", "opponent"),
        (challenge(opponent="zed"), 400, "unknown_rep", "opponent"),
        (challenge(opponent="cat"), 400, "inactive_rep", "opponent"),
        (challenge(metric="pillar.brand.gain"), 400, "unknown_metric", "metric"),
        (challenge(metric="events.nope"), 400, "unknown_metric", "metric"),
        (challenge(end_date="2026-04-03"), 400, "invalid", "end_date"),
        (challenge(end_date="2026-03-01"), 400, "invalid", "end_date"),
        (challenge(challenger="bob"), 403, "not_your_rep", "challenger"),
    ],
)
def test_it_refuses_each_invalid_field(
    world: World, acme: ApiClient, people: None, body: dict[str, Any], status: int, code: str, attr: str
) -> None:
    ann = rep_client(world, acme, "ann")
    assert_error(ann.post(CHALLENGES, body), status, code, attr=attr)


def test_an_admin_names_the_challenger_and_31_days_is_the_longest(acme: ApiClient, people: None) -> None:
    assert_error(acme.post(CHALLENGES, challenge()), 400, "required", attr="challenger")
    body = create(acme, challenger="ann", metric="ssi.gain", start_date="2026-03-01", end_date="2026-04-01")
    assert body["challenger"] == "ann" and body["metric"] == "ssi.gain"


def test_it_denies_cross_tenant_access(acme: ApiClient, globex: ApiClient, people: None) -> None:
    body = create(acme, challenger="ann")
    assert_error(globex.get(f"{CHALLENGES}/{body['id']}"), 404, "not_found")
    assert globex.get(CHALLENGES).json()["results"] == []


@pytest.mark.parametrize(
    ("changes", "code", "attr"),
    [
        ({"challenges_enabled": "no"}, "invalid_type", "challenges_enabled"),
        ({"challenge_accept_hours": 0}, "out_of_range", "challenge_accept_hours"),
        ({"challenge_accept_hours": 745}, "out_of_range", "challenge_accept_hours"),
        ({"challenge_accept_hours": 1.5}, "invalid_type", "challenge_accept_hours"),
        ({"challenge_xp": -1}, "out_of_range", "challenge_xp"),
        ({"challenge_xp": 100_001}, "out_of_range", "challenge_xp"),
    ],
)
def test_the_challenge_settings_are_validated(
    acme: ApiClient, changes: dict[str, Any], code: str, attr: str
) -> None:
    response = acme.patch("/api/v1/settings", changes)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["attr"] == attr and response.json()["errors"][0]["code"] in (
        code,
        "invalid",
    )
