"""Badges and awards, goals, the XP ledger, outbox events and webhook deliveries.

Tenant models: call inside ``tests.support.tenants.in_tenant(slug)`` (or any tenant context).
Use ``BadgeFactory.create(...)`` (typed) rather than ``BadgeFactory(...)``. Fields a factory
does not declare keep the model's default.
"""

from __future__ import annotations

from datetime import date

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from gamification.models import (
    Badge,
    BadgeAward,
    Goal,
    OutboxEvent,
    WebhookDelivery,
    WebhookSubscription,
    XpDaily,
)
from tests.factories.scoring import RepFactory


class BadgeFactory(DjangoModelFactory[Badge]):
    """An active badge, awarded once, for a first post."""

    class Meta:
        model = Badge

    slug = factory.Sequence(lambda n: f"badge-{n}")
    name = factory.Sequence(lambda n: f"Badge {n}")
    criteria = factory.LazyFunction(lambda: {"metric": "events.post_published", "op": ">=", "value": 1})


class BadgeAwardFactory(DjangoModelFactory[BadgeAward]):
    """A badge awarded to a rep (``period`` "": a badge awarded once), now, with no reward."""

    class Meta:
        model = BadgeAward

    rep = factory.SubFactory(RepFactory)
    badge = factory.SubFactory(BadgeFactory)


class GoalFactory(DjangoModelFactory[Goal]):
    """A rep's goal of 10 posts over 2026. A team goal: ``rep=None, team=..., aggregate=...``."""

    class Meta:
        model = Goal

    title = factory.Sequence(lambda n: f"Goal {n}")
    rep = factory.SubFactory(RepFactory)
    metric = "events.post_published"
    target = 10
    start_date = date(2026, 1, 1)
    end_date = date(2026, 12, 31)


class XpDailyFactory(DjangoModelFactory[XpDaily]):
    """A row of the XP ledger only: the rep's total (``Rep.xp``) is not changed."""

    class Meta:
        model = XpDaily

    rep = factory.SubFactory(RepFactory)
    day = factory.LazyFunction(timezone.localdate)
    xp = 10


class OutboxEventFactory(DjangoModelFactory[OutboxEvent]):
    """A ``level.up`` event, not yet dispatched."""

    class Meta:
        model = OutboxEvent

    type = "level.up"
    data = factory.LazyFunction(dict)


class WebhookSubscriptionFactory(DjangoModelFactory[WebhookSubscription]):
    """An active subscription to every event, its secret stored as is (not sealed)."""

    class Meta:
        model = WebhookSubscription

    url = "http://127.0.0.1:9/hook"
    events = factory.LazyFunction(lambda: ["*"])
    secret = factory.Sequence(lambda n: f"whsec_factory_{n:08d}")


class WebhookDeliveryFactory(DjangoModelFactory[WebhookDelivery]):
    """A pending delivery of an event to a subscription, never tried."""

    class Meta:
        model = WebhookDelivery

    subscription = factory.SubFactory(WebhookSubscriptionFactory)
    event = factory.SubFactory(OutboxEventFactory)
