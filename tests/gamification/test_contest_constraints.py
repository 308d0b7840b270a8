"""The database refuses incoherent contests whatever writes them (docs/contests.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from gamification.models import Contest, ContestSeries
from tests.support.http import ApiClient
from tests.support.tenants import in_tenant


def contest(**extra: Any) -> dict[str, Any]:
    return {
        "name": "March",
        "metric": "xp",
        "kind": "leaderboard",
        "start_date": date(2026, 3, 1),
        "end_date": date(2026, 3, 31),
        "participants": {"all": True},
        **extra,
    }


@pytest.mark.parametrize(
    "extra",
    [
        {"kind": "race"},  # a race without a target
        {"kind": "race", "target": 0},
        {"target": 5},  # a target on a leaderboard
        {"kind": "teams"},  # teams without an aggregate
        {"aggregate": "avg"},  # an aggregate on a leaderboard
        {"kind": "other"},
        {"end_date": date(2026, 2, 28)},  # ends before it starts
        {"end_date": date(2027, 3, 3)},  # 367 days apart
        {"status": "draft"},
    ],
)
def test_the_database_refuses_an_incoherent_contest(acme: ApiClient, extra: dict[str, Any]) -> None:
    with in_tenant("acme"), pytest.raises(IntegrityError), transaction.atomic():
        Contest.objects.create(**contest(**extra))


def test_the_database_takes_each_kind_with_what_it_needs(acme: ApiClient) -> None:
    with in_tenant("acme"):
        Contest.objects.create(**contest(end_date=date(2027, 3, 2)))  # 366 days apart
        Contest.objects.create(**contest(kind="race", target=10))
        Contest.objects.create(**contest(kind="teams", aggregate="sum"))
        assert Contest.objects.count() == 3


def test_the_database_holds_one_season_per_series_and_first_day(acme: ApiClient) -> None:
    with in_tenant("acme"):
        weekly = ContestSeries.objects.create(
            name="Weekly", metric="xp", kind="leaderboard", participants={"all": True}, every="week",
            starts_on=date(2026, 3, 2),
        )  # fmt: skip
        season = contest(
            start_date=date(2026, 3, 2), end_date=date(2026, 3, 8), series=weekly, season="2026-W10"
        )
        Contest.objects.create(**season)
        with pytest.raises(IntegrityError), transaction.atomic():
            Contest.objects.create(**season)  # a second worker's copy of the same season
        with pytest.raises(IntegrityError), transaction.atomic():
            Contest.objects.create(**contest(series=weekly, season=""))  # a season without its label
        with pytest.raises(IntegrityError), transaction.atomic():
            ContestSeries.objects.create(
                name="Odd", metric="xp", kind="race", participants={"all": True}, every="week",
                starts_on=date(2026, 3, 2),
            )  # fmt: skip
