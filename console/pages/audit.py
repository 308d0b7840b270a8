"""The audit log (``/console/audit``, managers and admins): every change to the tenant's
configuration, newest first, filtered by what changed, the action and the dates, each entry
readable (who, what, and the changed fields as ``field: before → after``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from access.models import AuditEntry, MemberRole
from access.selectors import audit_entries
from api.pagination import FeedPagination
from console.pages import console_page
from console.pages.admin.common import cursor_page, errors_of

TARGETS = {
    "scoring_config": "scoring config",
    "settings": "settings",
    "tenant": "tenant",
    "badge": "badge",
    "goal": "goal",
    "webhook": "webhook",
    "api_key": "API key",
    "rep_tokens": "rep tokens",
    "member": "member",
}
ACTIONS = {"create": "Created", "update": "Updated", "delete": "Deleted", "revoke": "Revoked"}
MAX_FIELDS = 25  # changed fields shown per entry (a whole scoring config can be created at once)
NOTHING = "—"
TEMPLATE = "console/audit.html"


class AuditPagination(FeedPagination):
    """The API's cursors over ``-id``, 50 entries a page."""

    page_size = 50
    max_page_size = 200


class AuditFilter(forms.Form):
    target_type = forms.ChoiceField(choices=[("", "Anything"), *TARGETS.items()], required=False)
    action = forms.ChoiceField(choices=[("", "Any action"), *ACTIONS.items()], required=False)
    since = forms.DateField(required=False)
    until = forms.DateField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date is before the start date.")
        return data


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Row:
    entry: AuditEntry
    who: str
    who_detail: str
    what: str
    changes: list[Change]
    more: int


ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")


def _text(value: Any) -> str:
    if isinstance(value, str) and ISO_TIME.match(value):
        # A time as the API writes it (ISO, UTC): to the second, saying its zone.
        return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    if value is None or value == "":
        return NOTHING
    if value is True or value is False:
        return "yes" if value else "no"
    if isinstance(value, list) and all(not isinstance(item, dict | list) for item in value):
        return ", ".join(str(item) for item in value) or "(none)"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """A snapshot's fields, nested objects spelled out (``weights.posts``)."""
    if not isinstance(value, dict):
        return {prefix: value} if prefix else {}
    fields: dict[str, Any] = {}
    for name, item in value.items():
        key = f"{prefix}.{name}" if prefix else str(name)
        if isinstance(item, dict) and item:
            fields.update(_flat(item, key))
        else:
            fields[key] = item
    return fields


def changes_of(before: Any, after: Any) -> list[Change]:
    """The fields that differ between two snapshots (all of them for a creation or a deletion),
    as stored: secrets were redacted when the entry was written."""
    old, new = _flat(before), _flat(after)
    changes = (
        Change(name, _text(old.get(name)), _text(new.get(name))) for name in dict.fromkeys([*old, *new])
    )
    return [change for change in changes if change.before != change.after and change.field != "id"]


def actor_of_entry(entry: AuditEntry) -> tuple[str, str]:
    """Who, and the detail that names them: a member's email and role, a key's name and prefix."""
    kind = entry.actor_kind
    if kind == AuditEntry.ActorKind.MEMBER:
        return entry.actor_name, f"member, {entry.actor_role}"
    if kind == AuditEntry.ActorKind.KEY:
        return entry.actor_name, f"API key {entry.actor_prefix}…, {entry.actor_role}"
    if kind == AuditEntry.ActorKind.PLATFORM:
        return entry.actor_name or "platform", f"platform key {entry.actor_prefix}…"
    if kind == AuditEntry.ActorKind.REP:
        return "a rep token", entry.actor_prefix
    return "system", "a command or a task"


def row_of(entry: AuditEntry) -> Row:
    who, detail = actor_of_entry(entry)
    changes = changes_of(entry.before, entry.after)
    action = ACTIONS.get(entry.action, entry.action)
    what = f"{action} {TARGETS.get(entry.target_type, entry.target_type)} {entry.target_id}"
    return Row(entry, who, detail, what, changes[:MAX_FIELDS], max(0, len(changes) - MAX_FIELDS))


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


@console_page(role=MemberRole.MANAGER)
def audit(request: HttpRequest) -> HttpResponse:
    zone = ZoneInfo(request.tenant.timezone or "UTC")  # type: ignore[attr-defined]
    form = AuditFilter(request.GET)
    rows: list[Row] = []
    newer = older = ""
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        entries = audit_entries(
            target_type=data["target_type"],
            action=data["action"],
            since=_start_of(data["since"], zone) if data["since"] else None,
            # "To" is a whole day: entries before the next day's start.
            until=_start_of(data["until"] + timedelta(days=1), zone) if data["until"] else None,
        )
        page, newer, older = cursor_page(request, entries, AuditPagination())
        rows = [row_of(entry) for entry in page]
    else:
        status = 400
    context = {
        "rows": rows,
        "newer": newer,
        "older": older,
        "errors": errors_of(form),
        "values": {name: request.GET.get(name, "") for name in ("target_type", "action", "since", "until")},
        "targets": TARGETS,
        "actions": ACTIONS,
    }
    return render(request, TEMPLATE, context, status=status)


urls = [path("audit", audit, name="console-audit")]
