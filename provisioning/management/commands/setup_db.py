"""Bring the whole database up to date: public schema, template, every tenant.

Run on every deploy and by ``make run``. Idempotent and quiet when nothing is
pending.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django_tenants.utils import tenant_context

from gamification.services.badges import badges_seed
from tenants.models import Tenant
from tenants.schema_clone import template_ensure, template_forget


def seed_missing_defaults() -> int:
    """Defaults that tenants made before a feature existed never got (once per tenant:
    a badge an admin deleted is not brought back)."""
    count = 0
    for tenant in Tenant.objects.all():
        done = set((tenant.settings or {}).get("_seeded", []))
        if "badges" in done:
            continue
        with tenant_context(tenant):
            badges_seed()
        tenant.settings = {**(tenant.settings or {}), "_seeded": sorted(done | {"badges"})}
        tenant.save(update_fields=["settings"])
        count += 1
    return count


class Command(BaseCommand):
    help = "Migrate the public schema, the tenant template schema and every tenant schema."

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = int(options["verbosity"])
        self.stdout.write("Migrating the public schema…")
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=max(0, verbosity - 1))
        self.stdout.write("Migrating the tenant template schema…")
        template_forget()
        template_ensure(verbosity=max(0, verbosity - 1))
        self.stdout.write("Migrating tenant schemas…")
        call_command("migrate_schemas", tenant=True, interactive=False, verbosity=max(0, verbosity - 1))
        seeded = seed_missing_defaults()
        if seeded:
            self.stdout.write(f"Seeded default badges into {seeded} existing tenant(s).")
        self.stdout.write(self.style.SUCCESS("Database is up to date."))
