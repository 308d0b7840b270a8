"""``manage.py migrate_tenants``: every tenant schema brought up to date, fast and resumable.

The template schema first, then every tenant by id (``--slug-prefix``: only those tenants,
not the template), each with the migrations its own ``django_migrations`` does not record,
in ``--processes`` processes. Prints ``n/N tenants, rate/min, ETA`` as it goes and, at the
end, the catalog's size per tenant schema. Interrupted (Ctrl-C, a deploy killed), it can
simply be run again: it does only what is left (tenants.schema_migrate).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.schema_migrate import catalog_size, progress_line, schemas_migrate, summary, tenant_schemas


class Command(BaseCommand):
    help = "Migrate every tenant schema (resumable), with progress and the catalog's size per tenant."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--processes", type=int, default=1, help="schemas migrated at once (default 1)")
        parser.add_argument("--slug-prefix", default="", help="only the tenants whose slug starts so")
        parser.add_argument(
            "--extra",
            action="append",
            default=[],
            help="module path of a migration outside the apps' migration modules (the bench's); "
            "needs --slug-prefix",
        )
        parser.add_argument("--progress-every", type=int, default=0, help="a progress line every n schemas")
        parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")

    def handle(self, *args: Any, **options: Any) -> None:
        processes = int(options["processes"])
        if not 1 <= processes <= 32:
            raise CommandError("--processes must be between 1 and 32")
        prefix = str(options["slug_prefix"])
        extra = list(options["extra"])
        if extra and not prefix:
            raise CommandError(
                "--extra applies to the tenants of a --slug-prefix only, never to the template"
            )
        schemas = tenant_schemas(slug_prefix=prefix)
        total = len(schemas)
        every = int(options["progress_every"]) or max(1, total // 20)
        self.stdout.write(f"migrating {total} tenant schemas with {processes} process(es)…")
        started = time.monotonic()
        done = [0]

        def on_schema(schema: str, applied: int) -> None:
            done[0] += 1
            if done[0] % every == 0 or done[0] == total:
                self.stdout.write(progress_line(done[0], total, time.monotonic() - started))
                sys.stdout.flush()

        try:
            progress = schemas_migrate(schemas, extra=extra, processes=processes, on_schema=on_schema)
        except KeyboardInterrupt:
            self.stdout.write(f"interrupted after {done[0]}/{total} tenants: run it again to finish")
            sys.stdout.flush()
            raise SystemExit(130) from None
        seconds = time.monotonic() - started
        figures = summary(progress, seconds)
        self.stdout.write(
            f"done: {progress.migrated} schemas migrated ({progress.migrations} migrations), "
            f"{progress.up_to_date} already up to date, in {seconds:.1f}s"
            + (f" ({figures['per_minute']:,.0f} tenants/min)" if figures["per_minute"] else "")
        )
        catalog = catalog_size(schemas)
        self.stdout.write(catalog.line())
        if options["json"]:
            figures["relations_per_schema"] = round(catalog.relations_per_schema, 1)
            figures["catalog_bytes"] = catalog.catalog_bytes
            self.stdout.write(json.dumps(figures))
