"""Database hygiene and diagnostics around the timed phases: CHECKPOINT, VACUUM, wait events."""

from __future__ import annotations

import contextlib
import threading
import time

from bench.client import Progress


def checkpoint(database_url: str) -> None:
    """Flush dirty pages before a timed phase, so it does not pay for the previous one's
    writes (best effort: needs superuser or pg_checkpoint)."""
    import psycopg

    with contextlib.suppress(psycopg.Error), psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def vacuum(slug: str, what: str) -> None:
    """``VACUUM (ANALYZE)`` of every table of a tenant's schema after a step wrote millions
    of rows, untimed, so that autovacuum does not work through them during the timed
    phases that follow."""
    import django.db
    from django_tenants.utils import tenant_context

    from core.db import connection
    from tenants.models import Tenant

    progress = Progress("vacuum")
    progress.update(f"VACUUM (ANALYZE) of {slug}'s tables ({what})…", force=True)
    started = time.monotonic()
    with tenant_context(Tenant.objects.get(slug=slug)), connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables WHERE schemaname = %s",
            [connection.schema_name],
        )
        tables = cursor.fetchone()[0]
        try:
            cursor.execute(f"VACUUM (ANALYZE) {tables}")
        except django.db.DatabaseError as exc:  # hygiene, not a measure: say so and go on
            progress.done(f"VACUUM of {slug}'s tables failed ({exc}); the timed phases go on")
            return
    progress.done(f"vacuumed {slug}'s tables ({what}) in {time.monotonic() - started:.1f}s")


class WaitSampler:
    """What the database's active client backends are doing, sampled every 50 ms while a phase
    runs (``pg_stat_activity``): on CPU, or waiting, and on what. Diagnostics, not a result."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.counts: dict[str, int] = {}
        self.samples = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with contextlib.suppress(psycopg.Error), psycopg.connect(self.database_url, autocommit=True) as conn:
            while not self.stopping.wait(0.05):
                rows = conn.execute(
                    "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity "
                    "WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                ).fetchall()
                for (what,) in rows:
                    self.counts[what] = self.counts.get(what, 0) + 1
                self.samples += 1

    def __enter__(self) -> WaitSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def summary(self, top: int = 4) -> str:
        total = sum(self.counts.values())
        if not total:
            return "no active backend seen"
        busy = total / max(self.samples, 1)
        parts = [
            f"{what} {100 * n / total:.0f}%" for what, n in sorted(self.counts.items(), key=lambda kv: -kv[1])
        ]
        return f"{busy:.1f} active backends on average: " + ", ".join(parts[:top])


# The tables autovacuum would vacuum or analyze next, by its own thresholds (the server's
# settings; a table never analyzed counts as empty).
DUE_FOR_AUTOVACUUM = """
SELECT format('%%I.%%I', s.schemaname, s.relname)
  FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
 CROSS JOIN LATERAL (SELECT greatest(c.reltuples, 0) AS tuples) t
 WHERE s.schemaname LIKE %s
   AND (s.n_dead_tup > current_setting('autovacuum_vacuum_threshold')::float8
                       + current_setting('autovacuum_vacuum_scale_factor')::float8 * t.tuples
        OR s.n_ins_since_vacuum > current_setting('autovacuum_vacuum_insert_threshold')::float8
                       + current_setting('autovacuum_vacuum_insert_scale_factor')::float8 * t.tuples
        OR s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
                       + current_setting('autovacuum_analyze_scale_factor')::float8 * t.tuples)
 ORDER BY s.schemaname, s.relname
"""


def settle(database_url: str, schema_prefix: str, what: str) -> None:
    """``VACUUM (ANALYZE)`` of the tables of the schemas named ``schema_prefix…`` that autovacuum
    would process next (``DUE_FOR_AUTOVACUUM``), untimed, so that autovacuum does not work through
    thousands of small tenants' tables during the timed step that follows (``vacuum`` does the
    same for one big tenant). Best effort: an error is said, and the run goes on."""
    import psycopg

    progress = Progress("settle")
    started = time.monotonic()
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            tables = conn.execute(DUE_FOR_AUTOVACUUM, [schema_prefix.replace("_", r"\_") + "%"]).fetchall()
            for i, (table,) in enumerate(tables):
                conn.execute(f"VACUUM (ANALYZE) {table}")
                progress.update(f"VACUUM (ANALYZE) after {what}: {i + 1}/{len(tables)} tables")
    except psycopg.Error as exc:  # hygiene, not a measure: say so and go on
        progress.done(f"VACUUM after {what} failed ({exc}); the timed steps go on")
        return
    progress.done(f"vacuumed {len(tables)} tables written by {what} in {time.monotonic() - started:.1f}s")
