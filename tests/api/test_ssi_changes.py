"""``GET /api/v1/reps/{id}/ssi/changes``: why a rep's SSI moved between two days
(docs/scoring.md#why-a-score-moved).

The hand-computed case (acme, Europe/Berlin; default config): ann updates her profile to 100
on D-1 and publishes 2 posts on D.

* D-1: brand = profile_completeness 25 * 3 * 1 / 8 = 9.375 (9.38); find = active_days
  25 * 3 * (1/45) / 8 = 0.2083 (0.21); SSI 9.5833 (9.58).
* D: brand adds posts 25 * 2 * (2/12) / 8 = 1.0417 (1.04): 10.4167 (10.42); find: 2 active
  days, 0.4167 (0.42); SSI 10.8333 (10.83).
* delta 10.83 - 9.58 = 1.25; brand 1.04 (posts 1.04, profile 0); find 0.21 (active_days 0.21).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest

from scoring.services.recompute import scores_compute_day
from tests.factories.scoring import RepFactory
from tests.support.http import ApiClient, assert_error
from tests.support.rep_tokens import mint
from tests.support.tenants import World, in_tenant

D = date(2026, 3, 10)
PILLARS = ("brand", "find", "engage", "relationships")


def day(offset: int = 0) -> str:
    return (D + timedelta(days=offset)).isoformat()


def at(offset: int, hour: int = 12) -> str:
    return f"{day(offset)}T{hour:02d}:00:00+01:00"


def compute(*days: date) -> None:
    with in_tenant("acme") as tenant:
        for d in days:
            scores_compute_day(tenant=tenant, day=d)


def changes(client: ApiClient, rep: str, start: str | None, end: str | None) -> Any:
    params = {k: v for k, v in (("from", start), ("to", end)) if v is not None}
    return client.get(f"/api/v1/reps/{rep}/ssi/changes", params)


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def ann(acme: ApiClient) -> str:
    with in_tenant("acme"):
        RepFactory.create(external_id="ann")
        RepFactory.create(external_id="bob")
    events = [
        {"id": "a1", "rep": "ann", "type": "profile_updated", "occurred_at": at(-1, 9), "value": 100},
        {"id": "a2", "rep": "ann", "type": "post_published", "occurred_at": at(0, 10)},
        {"id": "a3", "rep": "ann", "type": "post_published", "occurred_at": at(0, 11)},
    ]
    assert acme.post("/api/v1/activities", {"events": events}).json()["accepted"] == 3
    compute(D - timedelta(days=1), D)
    return "ann"


def signal(body: dict[str, Any], pillar: str, key: str) -> dict[str, Any]:
    found = [s for s in body["pillars"][pillar]["signals"] if s["key"] == key]
    assert len(found) == 1, (pillar, key)
    return found[0]


def test_the_changes_are_the_hand_computed_ones(acme: ApiClient, ann: str) -> None:
    body = ok(changes(acme, ann, day(-1), day()))
    assert body["rep"] == "ann"
    assert body["from"] == {
        "date": day(-1),
        "ssi": 9.58,
        "pillars": {"brand": 9.38, "find": 0.21, "engage": 0.0, "relationships": 0.0},
        "config_version": 1,
    }
    assert body["to"] == {
        "date": day(),
        "ssi": 10.83,
        "pillars": {"brand": 10.42, "find": 0.42, "engage": 0.0, "relationships": 0.0},
        "config_version": 1,
    }
    assert body["delta"] == 1.25
    assert body["config_changed"] is False
    brand, find = body["pillars"]["brand"], body["pillars"]["find"]
    assert (brand["from"], brand["to"], brand["delta"]) == (9.38, 10.42, 1.04)
    assert (find["from"], find["to"], find["delta"]) == (0.21, 0.42, 0.21)
    for pillar in ("engage", "relationships"):
        assert body["pillars"][pillar]["delta"] == 0
        assert all(s["delta"] == 0 for s in body["pillars"][pillar]["signals"])
    posts = signal(body, "brand", "posts")
    assert (posts["from"]["points"], posts["to"]["points"], posts["delta"]) == (0.0, 1.04, 1.04)
    assert (posts["from"]["x"], posts["to"]["x"]) == (0.0, 2.0)
    assert signal(body, "brand", "profile_completeness")["delta"] == 0
    active = signal(body, "find", "active_days")
    assert (active["from"]["x"], active["to"]["x"], active["delta"]) == (1.0, 2.0, 0.21)
    # Every signal of the default config, in its order, pillar by pillar.
    assert [s["key"] for s in brand["signals"]] == [
        "profile_completeness",
        "posts",
        "articles",
        "endorsements",
        "followers",
    ]


def test_each_side_is_what_explain_gives_that_day(acme: ApiClient, ann: str) -> None:
    body = ok(changes(acme, ann, day(-1), day()))
    for side, when in (("from", day(-1)), ("to", day())):
        explained = ok(acme.get(f"/api/v1/reps/{ann}/ssi/explain", {"date": when}))
        assert body[side]["ssi"] == explained["ssi"]
        assert body[side]["pillars"] == explained["pillars"]
        assert body[side]["config_version"] == explained["config_version"]
        listed = [s[side] for p in PILLARS for s in body["pillars"][p]["signals"]]
        assert listed == explained["signals"]


def test_from_must_be_before_to(acme: ApiClient, ann: str) -> None:
    assert_error(changes(acme, ann, day(), day()), 400, code="invalid_range", attr="from")
    assert_error(changes(acme, ann, day(), day(-1)), 400, code="invalid_range", attr="from")


@pytest.mark.parametrize(
    ("start", "end", "attr", "code"),
    [
        (None, "2026-03-10", "from", "required"),
        ("2026-03-09", None, "to", "required"),
        ("09.03.2026", "2026-03-10", "from", "invalid_date"),
        ("2026-03-09", "tomorrow", "to", "invalid_date"),
        ("2026-03-09", "2026-02-30", "to", "invalid_date"),
        ("", "2026-03-10", "from", "invalid_date"),
    ],
)
def test_a_missing_or_bad_date_is_a_400(
    acme: ApiClient, ann: str, start: str | None, end: str | None, attr: str, code: str
) -> None:
    assert_error(changes(acme, ann, start, end), 400, code=code, attr=attr)


def test_a_day_without_a_snapshot_is_a_404_naming_it(acme: ApiClient, ann: str) -> None:
    response = changes(acme, ann, day(-2), day())
    assert_error(response, 404, code="not_scored", attr="from")
    assert day(-2) in response.json()["errors"][0]["detail"]
    response = changes(acme, ann, day(-1), day(1))
    assert_error(response, 404, code="not_scored", attr="to")
    assert day(1) in response.json()["errors"][0]["detail"]


def test_an_unknown_rep_is_a_404(acme: ApiClient, ann: str) -> None:
    assert_error(changes(acme, "nobody", day(-1), day()), 404)


@pytest.mark.parametrize("role", ["integration", "read"])
def test_every_key_role_reads_changes(world: World, ann: str, role: str) -> None:
    client = ApiClient(world.acme.host, getattr(world.acme, role))
    assert ok(changes(client, ann, day(-1), day()))["delta"] == 1.25


def test_a_rep_token_reads_its_own_rep_only(world: World, acme: ApiClient, ann: str) -> None:
    own = ApiClient(world.acme.host, mint(acme, "ann")["token"])
    assert ok(changes(own, "ann", day(-1), day()))["delta"] == 1.25
    other = ApiClient(world.acme.host, mint(acme, "bob")["token"])
    assert_error(changes(other, "ann", day(-1), day()), 403)


def test_it_denies_cross_tenant_access(world: World, globex: ApiClient, ann: str) -> None:
    # globex's admin key on globex's host does not see acme's reps ...
    assert_error(changes(globex, "ann", day(-1), day()), 404)
    # ... and on acme's host it is not a key of acme.
    assert_error(changes(ApiClient(world.acme.host, world.globex.admin), "ann", day(-1), day()), 401)
    # globex has a rep of the same external_id with no scores: its own 404, nothing of acme's.
    with in_tenant("globex"):
        RepFactory.create(external_id="ann")
    assert_error(changes(globex, "ann", day(-1), day()), 404, code="not_scored")


def test_a_config_change_between_the_days_is_shown_with_both_versions(
    acme: ApiClient, ann: str, scoring_config: dict[str, Any]
) -> None:
    # v2: posts' target 12 -> 6, followers removed, a new "likes" signal in engage.
    brand = scoring_config["pillars"]["brand"]["signals"]
    next(s for s in brand if s["key"] == "posts")["target"] = 6
    scoring_config["pillars"]["brand"]["signals"] = [s for s in brand if s["key"] != "followers"]
    scoring_config["pillars"]["engage"]["signals"].append(
        {"key": "likes", "kind": "count", "types": ["post_published"], "target": 4, "weight": 1}
    )
    assert acme.put("/api/v1/scoring-config", scoring_config).json()["version"] == 2
    compute(D)

    body = ok(changes(acme, ann, day(-1), day()))
    assert body["config_changed"] is True
    assert (body["from"]["config_version"], body["to"]["config_version"]) == (1, 2)
    # brand on D: 25 * (3 * 1 + 2 * (2/6)) / 7 = 13.0952 (weights 3+2+1+1 = 7); on D-1 under v1 9.375.
    assert body["pillars"]["brand"]["to"] == 13.10
    posts = signal(body, "brand", "posts")
    assert posts["to"]["points"] == 2.38  # 25 * 2 * (2/6) / 7 = 2.381
    followers = signal(body, "brand", "followers")
    assert followers["to"] is None and followers["from"]["points"] == 0 and followers["delta"] == 0
    # profile_completeness: 25 * 3 / 8 = 9.375 -> 25 * 3 / 7 = 10.714: the weights' sum moved it.
    assert signal(body, "brand", "profile_completeness")["delta"] == round(10.71 - 9.38, 2)
    likes = signal(body, "engage", "likes")
    assert likes["from"] is None
    # engage on D: likes n = 2/4 (w 1) over weights 9 + 1 = 10: 25 * 0.5 / 10 = 1.25.
    assert likes["to"]["points"] == 1.25 and likes["delta"] == 1.25
    assert body["pillars"]["engage"]["delta"] == 1.25
    assert_adds_up(body)


# --- the answer adds up, on random histories ---------------------------------------------------------

TYPES = [
    "profile_updated",
    "post_published",
    "article_published",
    "endorsement_received",
    "follower_gained",
    "people_search",
    "profile_viewed",
    "lead_saved",
    "post_liked",
    "post_commented",
    "post_shared",
    "message_sent",
    "message_received",
    "message_replied",
    "group_joined",
    "connection_request_sent",
    "connection_request_accepted",
    "connections_synced",
    "decision_maker_connected",
]


def assert_adds_up(body: dict[str, Any]) -> None:
    """The spec's sums: signals to their pillar within 0.01 per signal, pillars to the SSI."""
    assert body["delta"] == round(body["to"]["ssi"] - body["from"]["ssi"], 2)
    total = 0
    for p in PILLARS:
        pillar = body["pillars"][p]
        signals = pillar["signals"]
        cents = round(pillar["delta"] * 100)
        assert abs(sum(round(s["delta"] * 100) for s in signals) - cents) <= len(signals), (p, body)
        # Each signal's delta is exactly the difference of its points (a missing side: 0).
        for s in signals:
            was = s["from"]["points"] if s["from"] else 0.0
            now = s["to"]["points"] if s["to"] else 0.0
            assert round(s["delta"] * 100) == round(now * 100) - round(was * 100)
        # The pillar's delta is within a cent of the difference of its shown points.
        assert abs(cents - (round(pillar["to"] * 100) - round(pillar["from"] * 100))) <= 1
        assert (pillar["from"], pillar["to"]) == (body["from"]["pillars"][p], body["to"]["pillars"][p])
        total += cents
    assert total == round(body["delta"] * 100)


def random_events(rng: random.Random, reps: list[str], days: int) -> list[dict[str, Any]]:
    events = []
    for rep in reps:
        for n in range(rng.randint(0, 40)):
            kind = rng.choice(TYPES)
            value = {
                "profile_updated": rng.randint(0, 100),
                "connections_synced": rng.randint(0, 900),
                "follower_gained": rng.randint(1, 20),
            }.get(kind, rng.choice([1, 1, 2, 3]))
            offset = -rng.randint(0, days + 10)
            occurred = f"{day(offset)}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00+01:00"
            events.append(
                {"id": f"{rep}-{n}", "rep": rep, "type": kind, "occurred_at": occurred, "value": value}
            )
    return events


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_on_random_histories_the_answer_adds_up_and_matches_explain(acme: ApiClient, seed: int) -> None:
    rng = random.Random(seed)
    reps = [f"r{seed}-{i}" for i in range(4)]
    with in_tenant("acme"):
        for rep in reps:
            RepFactory.create(external_id=rep)
    events = random_events(rng, reps, days=8)
    assert acme.post("/api/v1/activities", {"events": events}).json()["accepted"] == len(events)
    scored = sorted(D - timedelta(days=k) for k in rng.sample(range(8), 4))
    compute(*scored)
    explained = {
        (rep, d): ok(acme.get(f"/api/v1/reps/{rep}/ssi/explain", {"date": d.isoformat()}))
        for rep in reps
        for d in scored
    }
    pairs = [(a, b) for i, a in enumerate(scored) for b in scored[i + 1 :]]
    for rep in reps:
        for start, end in pairs:
            body = ok(changes(acme, rep, start.isoformat(), end.isoformat()))
            assert_adds_up(body)
            for side, d in (("from", start), ("to", end)):
                explanation = explained[(rep, d)]
                assert body[side]["ssi"] == explanation["ssi"]
                assert body[side]["pillars"] == explanation["pillars"]
                listed = [s[side] for p in PILLARS for s in body["pillars"][p]["signals"]]
                assert listed == explanation["signals"]
