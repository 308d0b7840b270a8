"""Start due contests and finalize those that are over, in one tenant, now (docs/contests.md)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import tenant_context

from gamification.services.contest_finalize import contests_tick
from tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Do at once what the periodic task does every few minutes: open the seasons of recurring contests "
        "that are due, turn due contests running, finalize those whose end_date is over in the tenant's "
        "time zone and announce new leaders. Running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.exclude(schema_name="public").filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        with tenant_context(tenant):
            result = contests_tick(tenant=tenant)
        self.stdout.write(
            json.dumps(
                {
                    "opened": result.opened,
                    "started": result.started,
                    "finalized": result.finalized,
                    "lead_changed": result.lead_changed,
                }
            )
        )
