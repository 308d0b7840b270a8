"""Bring the whole database up to date: public schema, template, every tenant.

Run on every deploy and by ``make run``. Idempotent and quiet when nothing is
pending.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants.schema_clone import template_ensure, template_forget


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
        self.stdout.write(self.style.SUCCESS("Database is up to date."))
