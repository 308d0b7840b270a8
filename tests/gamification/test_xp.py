"""XP and levels (docs/gamification.md#xp-and-levels): credited at ingestion, once per stored event.

Events go in through ``POST /api/v1/activities`` on acme (Europe/Berlin); the rep's total
(``Rep.xp``), the daily ledger (``XpDaily``) and the ``level.up`` outbox rows are read back
from acme's schema. Catalog XP: post_published 10, article_published 25, message_received 0,
follower_gained 1.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from gamification.models import OutboxEvent, XpDaily
from gamification.rules.levels import DEFAULT_THRESHOLDS, level_for, levels_gained
from scoring.models import Rep
from tests.support.http import ApiClient
from tests.support.tenants import in_tenant

SETTINGS = "/api/v1/settings"
CONFIG = "/api/v1/scoring-config"


def ev(
    id: str, type: str, when: str = "2026-11-18T10:00:00+01:00", rep: str = "ann", **extra: Any
) -> dict[str, Any]:
    return {"id": id, "rep": rep, "type": type, "occurred_at": when, **extra}


def ingest(client: ApiClient, *events: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/activities", {"events": list(events)})
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    assert body["rejected"] == [], body
    return body


def xp_of(rep: str = "ann") -> int:
    with in_tenant("acme"):
        return Rep.objects.get(external_id=rep).xp


def ledger(rep: str = "ann") -> dict[date, int]:
    with in_tenant("acme"):
        return {row.day: row.xp for row in XpDaily.objects.filter(rep__external_id=rep).order_by("day")}


def level_ups() -> list[dict[str, Any]]:
    with in_tenant("acme"):
        return [e.data for e in OutboxEvent.objects.filter(type="level.up").order_by("created_at", "data")]


# --- XP per event -------------------------------------------------------------------------------------


def test_each_event_credits_its_types_xp(acme: ApiClient) -> None:
    ingest(acme, ev("e1", "post_published"), ev("e2", "article_published"), ev("e3", "message_received"))
    assert xp_of() == 10 + 25 + 0


def test_every_event_counts_even_of_the_same_type(acme: ApiClient) -> None:
    ingest(acme, *(ev(f"p{i}", "post_published") for i in range(3)))
    assert xp_of() == 3 * 10


def test_a_type_worth_0_xp_credits_nothing(acme: ApiClient) -> None:
    ingest(acme, ev("m1", "message_received"), ev("m2", "connections_synced", value=500))
    assert xp_of() == 0
    assert ledger() == {}


def test_the_value_of_an_event_does_not_multiply_its_xp(acme: ApiClient) -> None:
    ingest(acme, ev("f1", "follower_gained", value=50), ev("p1", "post_published", value=7))
    assert xp_of() == 1 + 10


def test_a_duplicate_event_grants_nothing(acme: ApiClient) -> None:
    assert ingest(acme, ev("p1", "post_published"))["accepted"] == 1
    again = ingest(acme, ev("p1", "post_published"))
    assert (again["accepted"], again["duplicates"]) == (0, 1)
    assert xp_of() == 10
    assert ledger() == {date(2026, 11, 18): 10}


def test_an_event_repeated_inside_one_batch_counts_once(acme: ApiClient) -> None:
    body = ingest(acme, ev("a1", "article_published"), ev("a1", "article_published"))
    assert (body["accepted"], body["duplicates"]) == (1, 1)
    assert xp_of() == 25


def test_xp_is_credited_to_each_rep_separately(acme: ApiClient) -> None:
    ingest(acme, ev("a1", "article_published", rep="ann"), ev("b1", "post_published", rep="bob"))
    assert (xp_of("ann"), xp_of("bob")) == (25, 10)


def test_xp_overrides_apply_to_events_ingested_afterwards(acme: ApiClient) -> None:
    ingest(acme, ev("p1", "post_published"))
    response = acme.patch(SETTINGS, {"xp_per_type": {"post_published": 50, "message_received": 4}})
    assert response.status_code == 200, response.content
    ingest(acme, ev("p2", "post_published"), ev("m1", "message_received"), ev("a1", "article_published"))
    # p1 keeps its 10; p2 is worth 50 now; message_received 4; article_published unchanged, 25.
    assert xp_of() == 10 + 50 + 4 + 25


def test_a_custom_types_xp_comes_from_the_scoring_config(acme: ApiClient) -> None:
    config = acme.get(CONFIG).json()
    config["custom_event_types"] = [{"name": "webinar_hosted", "xp": 12}, {"name": "demo_booked"}]
    assert acme.put(CONFIG, config).status_code == 200
    ingest(acme, ev("w1", "webinar_hosted"), ev("w2", "webinar_hosted"), ev("d1", "demo_booked"))
    assert xp_of() == 2 * 12 + 0


def test_an_override_beats_a_custom_types_configured_xp(acme: ApiClient) -> None:
    config = acme.get(CONFIG).json()
    config["custom_event_types"] = [{"name": "webinar_hosted", "xp": 12}]
    assert acme.put(CONFIG, config).status_code == 200
    assert acme.patch(SETTINGS, {"xp_per_type": {"webinar_hosted": 30}}).status_code == 200
    ingest(acme, ev("w1", "webinar_hosted"))
    assert xp_of() == 30


# --- the daily ledger ---------------------------------------------------------------------------------


def test_xp_daily_holds_the_xp_on_the_events_local_day(acme: ApiClient) -> None:
    ingest(
        acme,
        # 22:30 UTC on the 20th is 23:30 in Berlin: the 20th.
        ev("p1", "post_published", "2026-11-20T22:30:00Z"),
        # 23:30 UTC on the 20th is 00:30 in Berlin: the 21st.
        ev("a1", "article_published", "2026-11-20T23:30:00Z"),
        ev("p2", "post_published", "2026-11-21T08:00:00+01:00"),
        ev("p3", "post_published", "2026-11-17T12:00:00-05:00"),  # 18:00 in Berlin, the 17th
    )
    assert ledger() == {date(2026, 11, 17): 10, date(2026, 11, 20): 10, date(2026, 11, 21): 25 + 10}
    assert xp_of() == sum(ledger().values())


def test_later_events_add_to_the_same_day_in_the_ledger(acme: ApiClient) -> None:
    ingest(acme, ev("p1", "post_published"))
    ingest(acme, ev("a1", "article_published"))
    assert ledger() == {date(2026, 11, 18): 35}


# --- levels -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("xp", "level"),
    [(0, 1), (99, 1), (100, 2), (299, 2), (300, 3), (600, 4), (1000, 5), (1500, 6), (2500, 7), (4000, 8),
     (6000, 9), (9999, 9), (10000, 10), (250000, 10)],
)  # fmt: skip
def test_the_level_is_the_number_of_thresholds_at_or_below_xp(xp: int, level: int) -> None:
    assert level_for(xp) == level
    assert level == sum(1 for t in DEFAULT_THRESHOLDS if t <= xp)


def test_levels_gained_lists_every_level_crossed() -> None:
    assert levels_gained(90, 650) == [2, 3, 4]
    assert levels_gained(100, 299) == []
    assert levels_gained(0, 100, [0, 50, 100]) == [2, 3]


def test_a_reps_level_follows_its_xp(acme: ApiClient) -> None:
    ingest(acme, *(ev(f"a{i}", "article_published") for i in range(4)))  # 4 * 25 = 100
    assert xp_of() == 100
    assert level_for(xp_of()) == 2


def test_a_level_up_writes_one_level_up_event_per_level_crossed(acme: ApiClient) -> None:
    # 30 articles: 750 XP, from level 1 past 100, 300 and 600: levels 2, 3 and 4.
    ingest(acme, *(ev(f"a{i}", "article_published") for i in range(30)))
    assert xp_of() == 750
    assert level_ups() == [
        {"rep": "ann", "level": 2, "xp": 750},
        {"rep": "ann", "level": 3, "xp": 750},
        {"rep": "ann", "level": 4, "xp": 750},
    ]


def test_xp_within_a_level_writes_no_level_up(acme: ApiClient) -> None:
    ingest(acme, *(ev(f"p{i}", "post_published") for i in range(9)))  # 90 XP: still level 1
    assert level_ups() == []
    ingest(acme, ev("p9", "post_published"))  # 100 XP: level 2
    assert level_ups() == [{"rep": "ann", "level": 2, "xp": 100}]
    ingest(acme, ev("p10", "post_published"))  # 110 XP: still level 2
    assert len(level_ups()) == 1


def test_a_duplicate_event_never_levels_up_again(acme: ApiClient) -> None:
    batch = [ev(f"a{i}", "article_published") for i in range(4)]
    ingest(acme, *batch)
    ingest(acme, *batch)
    assert xp_of() == 100
    assert level_ups() == [{"rep": "ann", "level": 2, "xp": 100}]


def test_the_tenants_thresholds_decide_levels(acme: ApiClient) -> None:
    response = acme.patch(SETTINGS, {"level_thresholds": [0, 20, 40]})
    assert response.status_code == 200, response.content
    ingest(acme, ev("p1", "post_published"), ev("p2", "post_published"))  # 20 XP
    assert level_ups() == [{"rep": "ann", "level": 2, "xp": 20}]
    ingest(acme, ev("a1", "article_published"))  # 45 XP: level 3, the last
    assert level_ups()[1:] == [{"rep": "ann", "level": 3, "xp": 45}]
    assert level_for(xp_of(), [0, 20, 40]) == 3


def test_level_ups_of_several_reps_in_one_batch_name_each_rep(acme: ApiClient) -> None:
    ingest(
        acme,
        *(ev(f"a{i}", "article_published", rep="ann") for i in range(4)),  # 100
        *(ev(f"b{i}", "article_published", rep="bob") for i in range(12)),  # 300
    )
    got = sorted((e["rep"], e["level"], e["xp"]) for e in level_ups())
    assert got == [("ann", 2, 100), ("bob", 2, 300), ("bob", 3, 300)]
