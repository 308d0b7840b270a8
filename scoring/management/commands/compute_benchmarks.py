from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scoring.services.benchmark import compute_benchmarks
from tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Compute the industry benchmark of a day (docs/scoring.md#industry-benchmark) from every "
        "tenant taking part, replacing what was stored for that day."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", required=True, help="The day, YYYY-MM-DD.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            day = date.fromisoformat(options["date"])
        except ValueError as exc:
            raise CommandError(f"--date must be a date as YYYY-MM-DD, not {options['date']!r}.") from exc
        started = time.monotonic()

        def progress(tenant: Tenant, reps: int) -> None:
            self.stdout.write(f"{tenant.slug}: {reps} reps with a snapshot on {day}")

        results = compute_benchmarks(day, progress=progress)
        for result in results:
            shown = "published" if result.published else "not published (below the thresholds)"
            self.stdout.write(
                f"{result.industry} {day}: {result.companies} companies, {result.reps} reps, {shown}"
            )
        industries = f"{len(results)} industr{'y' if len(results) == 1 else 'ies'}"
        self.stdout.write(f"benchmark of {day}: {industries} in {time.monotonic() - started:.2f}s")
