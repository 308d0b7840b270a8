"""Exports of a tenant's data (docs/api.md#exporting-a-tenants-data).

An admin starts an export; the job runs as the worker runs it (``job_run``); the archive is
read back through its download link and compared with what the API and the database hold.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from scoring.models import Activity, Rep, Team
from scoring.services.jobs import job_run
from tests.factories.scoring import RepFactory, TeamFactory
from tests.support.http import ApiClient, assert_error
from tests.support.tenants import World, in_tenant

EXPORTS = "/api/v1/exports"


@pytest.fixture(autouse=True)
def export_dir(settings: Any, tmp_path: Path) -> Path:
    settings.SSI_EXPORT_DIR = str(tmp_path / "exports")
    return tmp_path


@pytest.fixture
def data(acme: ApiClient) -> None:
    with in_tenant("acme"):
        team = TeamFactory.create(name="Exported team")
        RepFactory.create(external_id="exp-ann", name="Ann Export", email="ann@example.com", team=team)
        RepFactory.create(external_id="exp-bob", name="Bob Export", team=team)
    events = [
        {"id": f"x-{i}", "rep": "exp-ann", "type": "post_published", "occurred_at": "2026-03-03T09:00:00Z",
         "metadata": {"n": i}}
        for i in range(5)
    ]  # fmt: skip
    assert acme.post("/api/v1/activities", {"events": events}).json()["accepted"] == 5


def start_and_run(client: ApiClient) -> dict[str, Any]:
    started = client.post(EXPORTS, {})
    assert started.status_code == 202, started.content
    body: dict[str, Any] = started.json()
    assert (body["status"], body["download_url"]) == ("queued", None)
    with in_tenant("acme") as tenant:
        job_run(tenant=tenant, job_id=str(body["id"]))
    done: dict[str, Any] = client.get(f"{EXPORTS}/{body['id']}").json()
    assert done["status"] == "succeeded", done
    return done


def download(world: World, url: str, host: str | None = None) -> Any:
    path = url.split("://", 1)[1].split("/", 1)[1]
    return Client().get("/" + path, HTTP_HOST=host or world.acme.host)


def read_archive(content: bytes) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]], dict[str, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(content)) as archive:
        files = {m.name: archive.extractfile(m).read() for m in archive.getmembers()}  # type: ignore[union-attr]
    manifest = json.loads(files.pop("manifest.json"))
    tables = {
        name.removesuffix(".jsonl.gz"): [json.loads(line) for line in gzip.decompress(raw).splitlines()]
        for name, raw in files.items()
    }
    return manifest, tables, files


def test_an_export_holds_every_table_as_the_api_and_the_database_do(
    world: World, acme: ApiClient, data: None
) -> None:
    done = start_and_run(acme)
    answer = download(world, done["download_url"])
    assert answer.status_code == 200 and answer["Content-Type"] == "application/x-tar"
    assert answer["Content-Disposition"].startswith("attachment;")
    manifest, tables, raw = read_archive(b"".join(answer.streaming_content))
    assert manifest["format"] == 1 and manifest["tenant"] == "acme"
    assert set(tables) == {
        "reps", "teams", "events", "snapshots", "awards", "goals", "config_versions", "audit_log",
    }  # fmt: skip
    for name, entry in manifest["tables"].items():
        assert entry["rows"] == len(tables[name]) == done["tables"][name], name
        assert entry["sha256"] == hashlib.sha256(raw[entry["file"]]).hexdigest(), name
    with in_tenant("acme"):
        assert len(tables["reps"]) == Rep.objects.count()
        assert len(tables["events"]) == Activity.objects.count()
        assert len(tables["teams"]) == Team.objects.count()
    ann = next(r for r in tables["reps"] if r["external_id"] == "exp-ann")
    api_ann = acme.get("/api/v1/reps/exp-ann").json()
    assert (
        (ann["name"], ann["email"])
        == (api_ann["name"], api_ann["email"])
        == ("Ann Export", "ann@example.com")
    )
    mine = [e for e in tables["events"] if e["rep_id"] == ann["id"]]
    assert sorted(e["metadata"]["n"] for e in mine) == [0, 1, 2, 3, 4]
    assert done["progress"] == {"done": sum(done["tables"].values()), "total": sum(done["tables"].values())}
    # Started by an admin key, audited.
    audit = acme.get("/api/v1/audit-log?target_type=export").json()["results"]
    assert [(e["action"], e["target_id"]) for e in audit] == [("create", str(done["id"]))]


def test_another_tenants_data_is_never_in_the_export(world: World, acme: ApiClient, data: None) -> None:
    globex = ApiClient(world.globex.host, world.globex.admin)
    assert (
        globex.post("/api/v1/reps", {"external_id": "globex-only", "name": "Globex Person"}).status_code
        == 201
    )
    done = start_and_run(acme)
    _, tables, raw = read_archive(b"".join(download(world, done["download_url"]).streaming_content))
    assert all(b"globex-only" not in gzip.decompress(content) for content in raw.values())
    assert "globex-only" not in {r["external_id"] for r in tables["reps"]}
    # acme's export is not globex's to list, read or download.
    assert globex.get(f"{EXPORTS}/{done['id']}").status_code == 404
    assert globex.get(EXPORTS).json()["count"] == 0
    refused = download(world, done["download_url"], host=world.globex.host)
    assert refused.status_code == 403 and refused.json()["errors"][0]["code"] == "bad_link"


def test_a_tampered_or_expired_link_is_refused(
    world: World, acme: ApiClient, data: None, settings: Any
) -> None:
    done = start_and_run(acme)
    url = done["download_url"]
    token, file = url.rsplit("/", 2)[-2:]
    tampered = url.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    answer = download(world, tampered)
    assert answer.status_code == 403 and answer.json()["errors"][0]["code"] == "bad_link"
    other_file = download(world, url.replace(file, "other.tar"))
    assert other_file.status_code == 403
    settings.SSI_EXPORT_LINK_HOURS = 0  # every link is now older than its life
    expired = download(world, url)
    assert expired.status_code == 410 and expired.json()["errors"][0]["code"] == "link_expired"


def test_only_admin_keys_export(world: World, acme: ApiClient) -> None:
    for key in (world.acme.integration, world.acme.read):
        client = ApiClient(world.acme.host, key)
        assert_error(client.post(EXPORTS, {}), 403)
        assert_error(client.get(EXPORTS), 403)
    assert_error(acme.post(EXPORTS, {"tables": ["reps"]}), 400)
    assert_error(acme.get(f"{EXPORTS}/00000000-0000-0000-0000-000000000000"), 404)


def test_the_purge_deletes_archives_whose_link_expired(world: World, acme: ApiClient, data: None) -> None:
    from provisioning.exports import export_folder, exports_purge

    done = start_and_run(acme)
    with in_tenant("acme") as tenant:
        folder = export_folder(tenant)
        assert [p.name for p in folder.iterdir()] == [f"acme-export-{done['id']}.tar"]
        assert exports_purge(tenant=tenant) == 0
        assert exports_purge(tenant=tenant, now=timezone.now() + timedelta(hours=25)) == 1
        assert list(folder.iterdir()) == []
    gone = download(world, done["download_url"])
    assert gone.status_code == 410
    assert acme.get(f"{EXPORTS}/{done['id']}").json()["status"] == "succeeded"
