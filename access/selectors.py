"""Reads of the access app: the audit log as the console filters it."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from access.models import AuditEntry


def audit_entries(
    *,
    target_type: str = "",
    action: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEntry]:
    """The audit log's entries, filtered as ``/api/v1/audit-log`` filters them (``at >= since``,
    ``at < until``); the ordering is the caller's (its cursor pagination's, newest first)."""
    entries = AuditEntry.objects.all()
    if target_type:
        entries = entries.filter(target_type=target_type)
    if action:
        entries = entries.filter(action=action)
    if since is not None:
        entries = entries.filter(at__gte=since)
    if until is not None:
        entries = entries.filter(at__lt=until)
    return entries
