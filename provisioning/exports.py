"""A tenant's data exported as an archive (docs/api.md#exporting-a-tenants-data).

``export_start`` records a job of kind ``export`` (``scoring.models.Job``: its status and
progress answer like every job's) and ``export_run`` runs it on a worker: one
``<table>.jsonl.gz`` per table (one JSON object per line, rows read with a server-side cursor
so memory stays flat), a ``manifest.json`` with each file's rows and SHA-256, all in one
uncompressed ``.tar`` under ``SSI_EXPORT_DIR/<schema>/``. A signed link opens it for
``SSI_EXPORT_LINK_HOURS``: the link holds the schema and the job, so it opens nothing on
another tenant's host, and any change to it breaks its signature. ``exports_purge`` deletes
archives whose link has expired.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from access.actor import Actor
from access.audit import audit_record
from access.models import AuditEntry
from core.db import connection
from gamification.models import BadgeAward, Goal
from scoring.models import Activity, Job, Rep, ScoreSnapshot, ScoringConfig, Team
from scoring.services.jobs import job_create
from tenants.models import Tenant

EXPORT = Job.Kind.EXPORT
FORMAT_VERSION = 1
CHUNK = 2000
# Each table of the archive: its file's name and the model whose every column it holds.
TABLES: tuple[tuple[str, type[Model]], ...] = (
    ("reps", Rep),
    ("teams", Team),
    ("events", Activity),
    ("snapshots", ScoreSnapshot),
    ("awards", BadgeAward),
    ("goals", Goal),
    ("config_versions", ScoringConfig),
    ("audit_log", AuditEntry),
)
SALT = "ssi.export"


class LinkRefused(Exception):
    """A download link that is not one of ours (``bad_link``) or has expired (``link_expired``)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ExportView:
    job: Job
    tables: dict[str, int]
    download_path: str | None  # the signed path, while the archive can be downloaded
    expires_at: datetime | None


def export_start(*, actor: Actor) -> Job:
    """Queue an export of the current tenant's data (run on commit by a worker), audited."""
    with transaction.atomic():
        job = job_create(kind=EXPORT, days=[], params={"requested_by": actor.name})
        audit_record(actor=actor, action="create", target_type="export", target_id=str(job.pk))
    return job


def exports_list() -> Any:
    return Job.objects.filter(kind=EXPORT).order_by("-created_at")


def export_view(job: Job, *, now: datetime | None = None) -> ExportView:
    now = now or timezone.now()
    result = job.result or {}
    expires = datetime.fromisoformat(result["expires_at"]) if result.get("expires_at") else None
    path = None
    if job.status == Job.Status.SUCCEEDED and expires is not None and now < expires:
        path = f"/exports/{export_link_token(job)}/{result['file']}"
    return ExportView(job, dict(result.get("tables", {})), path, expires)


def export_run(*, tenant: Tenant, job: Job, progress: Callable[[int, int], None]) -> dict[str, Any]:
    """Write the archive, table by table; returns the job's result (file, counts, expiry)."""
    counts = {name: model._default_manager.count() for name, model in TABLES}
    total = sum(counts.values())
    done = 0
    progress(0, total)
    folder = export_folder(tenant)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{tenant.slug}-export-{job.pk}.tar"
    manifest: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "tenant": tenant.slug,
        "created_at": timezone.now().isoformat(),
        "tables": {},
    }
    partial = folder / f"{job.pk}.tar.partial"
    with tarfile.open(partial, "w") as archive, tempfile.TemporaryDirectory(dir=folder) as scratch:
        for table, model in TABLES:
            file = Path(scratch) / f"{table}.jsonl.gz"
            rows = 0
            with gzip.open(file, "wt", encoding="utf-8") as out:
                for row in _rows(model):
                    out.write(json.dumps(row, default=_json, ensure_ascii=False, separators=(",", ":")))
                    out.write("\n")
                    rows += 1
                    if rows % CHUNK == 0:
                        progress(done + rows, total)
            done += rows
            progress(done, total)
            digest = hashlib.sha256(file.read_bytes()).hexdigest()
            manifest["tables"][table] = {"file": file.name, "rows": rows, "sha256": digest}
            archive.add(file, arcname=file.name)
        body = json.dumps(manifest, indent=2).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(body)
        info.mtime = int(timezone.now().timestamp())
        archive.addfile(info, io.BytesIO(body))
    final = folder / name
    partial.replace(final)
    expires = timezone.now() + timedelta(hours=float(settings.SSI_EXPORT_LINK_HOURS))
    return {
        "file": name,
        "bytes": final.stat().st_size,
        "tables": {t: manifest["tables"][t]["rows"] for t, _ in TABLES},
        "expires_at": expires.isoformat(),
    }


def export_link_token(job: Job) -> str:
    return signing.TimestampSigner(salt=f"{SALT}:{connection.schema_name}").sign(str(job.pk))


def export_file(token: str, file: str) -> Path:
    """The archive a download link names, on the current tenant's host; ``LinkRefused``
    otherwise (a link of another tenant does not verify here: the schema is in its salt)."""
    signer = signing.TimestampSigner(salt=f"{SALT}:{connection.schema_name}")
    max_age = timedelta(hours=float(settings.SSI_EXPORT_LINK_HOURS))
    try:
        job_id = signer.unsign(token, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkRefused("link_expired") from exc
    except signing.BadSignature as exc:
        raise LinkRefused("bad_link") from exc
    key = _uuid(job_id)
    job = Job.objects.filter(pk=key, kind=EXPORT, status=Job.Status.SUCCEEDED).first() if key else None
    if job is None or (job.result or {}).get("file") != file:
        raise LinkRefused("bad_link")
    path = export_folder(connection.tenant) / file
    if not path.is_file():
        raise LinkRefused("link_expired")  # purged with its link's time
    return path


def exports_purge(*, tenant: Tenant, now: datetime | None = None) -> int:
    """Delete this tenant's archives whose link expired (and what a crashed run left)."""
    now = now or timezone.now()
    folder = export_folder(tenant)
    if not folder.is_dir():
        return 0
    keep = set()
    for job in Job.objects.filter(kind=EXPORT, status=Job.Status.SUCCEEDED):
        expires = (job.result or {}).get("expires_at")
        if expires and datetime.fromisoformat(expires) > now:
            keep.add(job.result["file"])
    removed = 0
    running = Job.objects.filter(kind=EXPORT, status=Job.Status.RUNNING).values_list("pk", flat=True)
    keep |= {f"{job_id}.tar.partial" for job_id in running}
    for path in folder.iterdir():
        if path.is_file() and path.name not in keep:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def export_folder(tenant: Tenant) -> Path:
    return Path(settings.SSI_EXPORT_DIR) / tenant.schema_name


def _rows(model: type[Model]) -> Iterator[dict[str, Any]]:
    columns = [f.attname for f in model._meta.concrete_fields]
    yield from model._default_manager.order_by("pk").values(*columns).iterator(chunk_size=CHUNK)


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    raise TypeError(f"not JSON: {type(value).__name__}")


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None
