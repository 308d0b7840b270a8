"""The audit log. API keys and rep tokens are made by their services (``access.keys.api_key_create``,
the ``world`` fixture) or minted through the API (``tests.support.rep_tokens.mint``): their
secrets are hashed, which a factory would only repeat.

Tenant models: call inside ``tests.support.tenants.in_tenant(slug)`` (or any tenant context).
For hundreds of rows in one statement: ``AuditEntry.objects.bulk_create(AuditEntryFactory.build_batch(n))``.
"""

from __future__ import annotations

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from access.models import AuditEntry


class AuditEntryFactory(DjangoModelFactory[AuditEntry]):
    """A change to a badge by the system, now."""

    class Meta:
        model = AuditEntry

    at = factory.LazyFunction(timezone.now)
    actor_kind = AuditEntry.ActorKind.SYSTEM
    action = AuditEntry.Action.UPDATE
    target_type = AuditEntry.TargetType.BADGE
    target_id = factory.Sequence(lambda n: f"b-{n}")
