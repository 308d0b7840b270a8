from __future__ import annotations

import json
import sys
import time
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import tenant_context

from core.clock import local_yesterday
from scoring.services.recompute import scores_compute_day
from tenants.models import Tenant

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Recompute a tenant's scores for a day (default: its local yesterday), synchronously."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")
        parser.add_argument("--date", help="YYYY-MM-DD (default: the tenant's local yesterday).")
        parser.add_argument(
            "--days", type=int, default=1, help="Also recompute the N-1 days before --date, oldest first."
        )
        parser.add_argument("--json", action="store_true", help="Print a JSON summary instead of progress.")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        try:
            last = (
                date.fromisoformat(options["date"]) if options["date"] else local_yesterday(tenant.timezone)
            )
        except ValueError as exc:
            raise CommandError("--date must be YYYY-MM-DD.") from exc
        if not 1 <= options["days"] <= 3660:
            raise CommandError("--days must be between 1 and 3660.")
        days = [last - timedelta(days=i) for i in range(options["days"] - 1, -1, -1)]
        quiet = options["json"]
        tty = sys.stdout.isatty() and not quiet
        summary = []
        with tenant_context(tenant):
            for day in days:
                started = time.monotonic()

                def progress(done: int, total: int, day: date = day) -> None:
                    if not tty:
                        return
                    filled = BAR_WIDTH * done // total if total else BAR_WIDTH
                    bar = "#" * filled + "." * (BAR_WIDTH - filled)
                    self.stdout.write(f"\r{tenant.slug} {day} [{bar}] {done}/{total} reps", ending="")
                    self.stdout.flush()

                result = scores_compute_day(tenant=tenant, day=day, progress=progress)
                seconds = time.monotonic() - started
                summary.append({"date": day.isoformat(), "reps": result.reps, "seconds": round(seconds, 3)})
                if tty:
                    self.stdout.write("")
                if not quiet:
                    self.stdout.write(
                        f"{tenant.slug} {day}: {result.reps} reps scored "
                        f"(config v{result.config_version}) in {seconds:.2f}s"
                    )
        if quiet:
            self.stdout.write(json.dumps({"tenant": tenant.slug, "days": summary}))
