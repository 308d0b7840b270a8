"""Webhooks (``/console/webhooks``, admins): the subscriptions, a new one with its signing
secret shown once, edit, delete, and a subscription's deliveries with their tries and
"Redeliver". The same selectors and services as ``/api/v1/webhooks``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.core.validators import RegexValidator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from access.models import MemberRole
from api.v1.webhooks import WEBHOOK_URL_PATTERN, DeliveryPagination
from console.pages import actor_of_member, console_page
from console.pages.admin.common import cursor_page, done, errors_of, field_errors, notice_of, template
from core.errors import DomainError
from gamification.models import WebhookDelivery, WebhookSubscription
from gamification.services.outbox import EVENT_TYPES
from gamification.webhooks.secrets import secret_open
from gamification.webhooks.selectors import deliveries_list, subscriptions_list
from gamification.webhooks.services import (
    WILDCARD,
    delivery_redeliver,
    subscription_create,
    subscription_delete,
    subscription_update,
)

ADMIN = MemberRole.ADMIN
HOME = "/console/webhooks"
EVENT_CHOICES = [(WILDCARD, "Every event (*)"), *((name, name) for name in EVENT_TYPES)]
FORMAT_CHOICES = WebhookSubscription.Format.choices
FIELDS = ("url", "events", "format", "active", "description")
NOTICES = {
    "updated": "Webhook saved.",
    "deleted": "Webhook deleted with its deliveries.",
    "redelivered": "Delivery queued again: it is sent with a fresh set of tries.",
}


class WebhookForm(forms.Form):
    """Parses the form; the services check the rest (events, the URL's host)."""

    url = forms.CharField(
        max_length=1000,
        strip=True,
        # What the service can parse, as the API's schema says; the service checks the rest.
        validators=[
            RegexValidator(WEBHOOK_URL_PATTERN, "An http:// or https:// URL: a host, a port if any, a path.")
        ],
    )
    events = forms.MultipleChoiceField(choices=EVENT_CHOICES)
    # Left out (an old form, a script): JSON, the API's default.
    format = forms.ChoiceField(choices=FORMAT_CHOICES, required=False)
    active = forms.BooleanField(required=False)
    description = forms.CharField(max_length=200, required=False)

    def clean_format(self) -> str:
        return str(self.cleaned_data.get("format") or WebhookSubscription.Format.JSON)


def _subscription(webhook_id: int) -> WebhookSubscription:
    subscription = WebhookSubscription.objects.filter(pk=webhook_id).first()
    if subscription is None:
        raise Http404("No such webhook")
    return subscription


def _form_context(form: WebhookForm, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "errors": errors_of(form),
        "values": values,
        "event_choices": EVENT_CHOICES,
        "format_choices": FORMAT_CHOICES,
    }


def _posted(request: HttpRequest) -> dict[str, Any]:
    return {
        "url": request.POST.get("url", ""),
        "events": request.POST.getlist("events"),
        "format": request.POST.get("format", ""),
        "active": request.POST.get("active") == "on",
        "description": request.POST.get("description", ""),
    }


@console_page(role=ADMIN, methods=("GET", "POST"))
def webhooks(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST if request.method == "POST" else None)
    values: dict[str, Any] = {"url": "", "events": [], "format": "json", "active": True, "description": ""}
    status = 200
    if request.method == "POST":
        values = _posted(request)
        if form.is_valid():
            try:
                subscription = subscription_create(**form.cleaned_data, actor=actor_of_member(request))
            except DomainError as error:
                field_errors(form, error, FIELDS)
            else:
                context = {"webhook": subscription, "secret": secret_open(subscription.secret)}
                return render(request, template("webhook_created"), context, status=201)
        status = 400
    context = {
        "webhooks": list(subscriptions_list()),
        "messages_ok": notice_of(request, NOTICES),
        **_form_context(form, values),
    }
    return render(request, template("webhooks"), context, status=status)


@console_page(role=ADMIN)
def webhook(request: HttpRequest, webhook_id: int) -> HttpResponse:
    return _detail(request, _subscription(webhook_id))


def _detail(
    request: HttpRequest, subscription: WebhookSubscription, *, error: str = "", status: int = 200
) -> HttpResponse:
    rows, newer, older = cursor_page(
        request, deliveries_list(subscription=subscription), DeliveryPagination()
    )
    context = {
        "webhook": subscription,
        "deliveries": rows,
        "newer": newer,
        "older": older,
        "error": error,
        "finished": (WebhookDelivery.Status.FAILED, WebhookDelivery.Status.SUCCEEDED),
        "messages_ok": notice_of(request, NOTICES),
    }
    return render(request, template("webhook"), context, status=status)


@console_page(role=ADMIN, methods=("GET", "POST"))
def webhook_edit(request: HttpRequest, webhook_id: int) -> HttpResponse:
    subscription = _subscription(webhook_id)
    form = WebhookForm(request.POST if request.method == "POST" else None)
    values: dict[str, Any] = {name: getattr(subscription, name) for name in FIELDS}
    status = 200
    if request.method == "POST":
        values = _posted(request)
        if form.is_valid():
            try:
                subscription_update(
                    subscription=subscription, data=form.cleaned_data, actor=actor_of_member(request)
                )
            except DomainError as error:
                field_errors(form, error, FIELDS)
            else:
                return done(f"{HOME}/{subscription.pk}", "updated")
        status = 400
    context = {"webhook": subscription, **_form_context(form, values)}
    return render(request, template("webhook_edit"), context, status=status)


@console_page(role=ADMIN, methods=("GET", "POST"))
def webhook_delete(request: HttpRequest, webhook_id: int) -> HttpResponse:
    subscription = _subscription(webhook_id)
    if request.method == "POST":
        subscription_delete(subscription=subscription, actor=actor_of_member(request))
        return done(HOME, "deleted")
    return render(request, template("webhook_delete"), {"webhook": subscription})


@console_page(role=ADMIN, methods=("POST",))
def redeliver(request: HttpRequest, webhook_id: int, delivery_id: UUID) -> HttpResponse:
    subscription = _subscription(webhook_id)
    try:
        delivery_redeliver(subscription=subscription, delivery_id=str(delivery_id))
    except DomainError as error:
        if error.status == 404:
            raise Http404("No such delivery") from error
        return _detail(request, subscription, error=error.detail, status=error.status)
    return done(f"{HOME}/{subscription.pk}", "redelivered")


urls = [
    path("webhooks", webhooks, name="console-webhooks"),
    path("webhooks/<int:webhook_id>", webhook, name="console-webhook"),
    path("webhooks/<int:webhook_id>/edit", webhook_edit, name="console-webhook-edit"),
    path("webhooks/<int:webhook_id>/delete", webhook_delete, name="console-webhook-delete"),
    path(
        "webhooks/<int:webhook_id>/deliveries/<uuid:delivery_id>/redeliver",
        redeliver,
        name="console-webhook-redeliver",
    ),
]
