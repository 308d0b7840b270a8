"""API keys (``/console/keys``, admins): the keys, a new one shown once, revoke with a
confirmation. The same services as ``/api/v1/api-keys``."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from access.keys import api_key_create, api_key_revoke
from access.models import ApiKey, MemberRole, Role
from console.pages import actor_of_member, console_page
from console.pages.admin.common import done, errors_of, field_errors, notice_of, template
from core.errors import DomainError

HOME = "/console/keys"
ROLE_CHOICES = [
    (Role.READ, "read: reads everything"),
    (Role.INTEGRATION, "integration: ingests, manages reps and teams, mints rep tokens, reads"),
    (Role.ADMIN, "admin: everything in the tenant"),
]
NOTICES = {"revoked": "Key revoked: it stops working at once, with the rep tokens it minted."}


class KeyForm(forms.Form):
    name = forms.CharField(max_length=100)
    role = forms.ChoiceField(choices=ROLE_CHOICES)


@console_page(role=MemberRole.ADMIN, methods=("GET", "POST"))
def keys(request: HttpRequest) -> HttpResponse:
    form = KeyForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = api_key_create(**form.cleaned_data, actor=actor_of_member(request))
            except DomainError as error:
                field_errors(form, error, ("name", "role"))
            else:
                context = {"key": created.key, "token": created.token}
                return render(request, template("key_created"), context, status=201)
        status = 400
    context = {
        # Revoked keys too, as the API's ?include_revoked=true: what was revoked and when.
        "keys": list(ApiKey.objects.order_by("id")),
        "errors": errors_of(form),
        "values": {"name": request.POST.get("name", ""), "role": request.POST.get("role", Role.READ)},
        "role_choices": ROLE_CHOICES,
        "messages_ok": notice_of(request, NOTICES),
    }
    return render(request, template("keys"), context, status=status)


@console_page(role=MemberRole.ADMIN, methods=("GET", "POST"))
def key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    key = ApiKey.objects.filter(pk=key_id).first()
    if key is None:
        raise Http404("No such API key")
    error = ""
    if request.method == "POST":
        try:
            api_key_revoke(key_id=key.pk, actor=actor_of_member(request))
        except DomainError as refused:
            error = refused.detail
        else:
            return done(HOME, "revoked")
    status = 409 if error else 200
    return render(request, template("key_revoke"), {"key": key, "error": error}, status=status)


urls = [
    path("keys", keys, name="console-keys"),
    path("keys/<int:key_id>/revoke", key_revoke, name="console-key-revoke"),
]
