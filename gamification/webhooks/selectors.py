"""Webhook reads: the subscriptions with their latest delivery, and a subscription's deliveries
(the API's ``/webhooks`` and the console's Webhooks pages); the names a chat message shows."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import OuterRef, QuerySet, Subquery

from core.errors import ValidationFailed
from gamification.models import WebhookDelivery, WebhookSubscription
from gamification.webhooks.chat import Names
from scoring.models import Rep, Team


def subscriptions_list() -> QuerySet[WebhookSubscription]:
    """Every subscription by id, each with ``last_status`` and ``last_delivery_at``: its newest
    delivery's (None when it has none), in the same query."""
    newest = WebhookDelivery.objects.filter(subscription=OuterRef("pk")).order_by("-created_at")
    return WebhookSubscription.objects.order_by("id").annotate(
        last_status=Subquery(newest.values("status")[:1]),
        last_delivery_at=Subquery(newest.values("created_at")[:1]),
    )


def deliveries_list(
    *, subscription: WebhookSubscription, status: str | None = None
) -> QuerySet[WebhookDelivery]:
    """A subscription's deliveries with their event and tries (ordering is the caller's: its
    pagination's). ``status``, if given, must be one of the statuses (else 400 on ``status``)."""
    queryset = (
        WebhookDelivery.objects.filter(subscription=subscription)
        .select_related("event")
        .prefetch_related("tries")
    )
    if status:
        if status not in WebhookDelivery.Status.values:
            raise ValidationFailed(
                f"One of {', '.join(WebhookDelivery.Status.values)}.", code="invalid_choice", attr="status"
            )
        queryset = queryset.filter(status=status)
    return queryset


def chat_names(*, reps: Collection[str], teams: Collection[int]) -> Names:
    """The names a chat message shows: reps by external id (only those with a name), teams by id."""
    rep_names = dict(
        Rep.objects.filter(external_id__in=list(reps)).exclude(name="").values_list("external_id", "name")
        if reps
        else []
    )
    team_names = dict(Team.objects.filter(pk__in=list(teams)).values_list("pk", "name") if teams else [])
    return Names(reps=rep_names, teams=team_names)
