"""Tenant isolation below the API (issue 6, part 2): cache keys, Celery tasks, savepoints.

* Cache: every configured cache builds its keys with
  ``django_tenants.cache.make_key`` (the schema first), with the in-process
  cache and with Redis (``REDIS_URL``, else a private ``redis-server`` when
  one is installed); the same key set in tenant A is not seen in B; the rate
  limiter and the idempotency records follow; no product code reaches a cache
  or Redis another way (django-tenants issue 1052).
* Celery (real worker): a task sent from tenant A runs in A, and so do its
  retries (``self.retry``, ``autoretry_for``) and the tasks it enqueues; the
  product's chain dispatcher -> per-tenant job -> day hooks -> outbox ->
  webhook deliveries (and a delivery's retry) stays in each tenant
  (tenant-schemas-celery issues 12, 132).
* Savepoints: ``TENANT_LIMIT_SET_CALLS`` is on (safe with django-tenants >= 4.0.1); after a rolled-back
  savepoint every query runs in the schema the connection names, within the
  request and in the next request on the same connection for another tenant
  (django-tenants issue 1262). A control test shows the probe does catch the
  bug of issue 1262 when the setting is on and the library's fix is absent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.db.backends.postgresql.base import DatabaseWrapper as PlainPostgresWrapper
from django.test import override_settings
from django.utils import timezone
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantWrapper
from django_tenants.utils import get_limit_set_calls, schema_context, tenant_context

from access.models import ApiKey
from core.clock import local_yesterday
from core.db import connection
from core.tokens import token_prefix
from gamification.models import PendingEvaluation, WebhookDelivery
from scoring.models import Activity, ActivityDaily, Job, ScoreSnapshot
from scoring.tasks import dispatch_nightly
from tenants.models import Tenant
from tests.support.http import ApiClient
from tests.support.server import free_port, server_env
from tests.support.tenants import TenantKeys, World, committed_tenant_made
from tests.support.webhooks import Receiver, running_receiver, signed_with
from tests.support.worker import BASE_DIR, celery_worker, wait_for

PRODUCT_PACKAGES = ("api", "config", "gamification", "scoring", "tenants")
MAKE_KEY = "django_tenants.cache.make_key"
REVERSE_KEY = "django_tenants.cache.reverse_key"


# --- Cache ---------------------------------------------------------------------------------------


def caches_with_redis(redis_url: str, data_dir: Path) -> dict[str, Any]:
    """``settings.CACHES`` as the settings build it when ``REDIS_URL`` is set (another process)."""
    code = "import json; from django.conf import settings; print(json.dumps(settings.CACHES))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR, env=server_env(data_dir, {"REDIS_URL": redis_url, "CELERY_BROKER_URL": ""}),
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    caches_setting: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return caches_setting


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``REDIS_URL`` if set; else a private redis-server on loopback if installed; else skip."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("no REDIS_URL and no redis-server on PATH")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        wait_for(lambda: _pings(client), timeout=20, what="redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _pings(client: Any) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


@pytest.fixture(params=["locmem", "redis"])
def cache_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The default cache as configured without Redis (tests' settings), then with Redis."""
    if request.param == "locmem":
        # The tests' settings use it, unless REDIS_URL is set (CI's second run): then the
        # same configuration on the in-process backend, key functions included.
        local = {
            alias: {k: v for k, v in config.items() if k not in ("LOCATION", "OPTIONS")}
            | {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"probe-{alias}"}
            for alias, config in settings.CACHES.items()
        }
        with override_settings(CACHES=local):
            cache.clear()
            yield "locmem"
            cache.clear()
        return
    url = request.getfixturevalue("redis_url")
    redis_caches = caches_with_redis(url, tmp_path)
    assert redis_caches["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    with override_settings(CACHES=redis_caches):
        # Other tests on the same Redis (REDIS_URL) leave their rate-limit counters behind.
        _redis_delete("*isolation-probe*", "*:ratelimit:*")
        yield "redis"
        _redis_delete("*isolation-probe*", "*:ratelimit:*")


def _redis_delete(*patterns: str) -> None:
    client = _redis_client()
    keys = [key for pattern in patterns for key in client.keys(pattern)]
    if keys:
        client.delete(*keys)


def _redis_client() -> Any:
    return caches["default"]._cache.get_client(write=True)  # type: ignore[attr-defined]


def raw_keys(backend: str) -> list[str]:
    """The keys as stored by the backend (after the key function)."""
    if backend == "locmem":
        return list(caches["default"]._cache)  # type: ignore[attr-defined]
    return [k.decode() for k in _redis_client().keys("*")]


# The per-address counts of requests without a valid key (api.anonymous_limit) belong to no
# tenant: an address is limited across every host. They hold no tenant data.
TENANTLESS = {"limits"}


def test_every_cache_builds_its_keys_with_the_schema(tmp_path: Path) -> None:
    assert set(settings.CACHES) - TENANTLESS == {"default"}
    for alias, config in settings.CACHES.items():
        if alias in TENANTLESS:
            continue
        assert config.get("KEY_FUNCTION") == MAKE_KEY, alias
        assert config.get("REVERSE_KEY_FUNCTION") == REVERSE_KEY, alias
    # The Redis branch of the settings too (REDIS_URL only has to parse: nothing connects).
    for alias, config in caches_with_redis("redis://127.0.0.1:1/0", tmp_path).items():
        assert config["BACKEND"].endswith("RedisCache"), alias
        if alias in TENANTLESS:
            continue
        assert config.get("KEY_FUNCTION") == MAKE_KEY, alias
        assert config.get("REVERSE_KEY_FUNCTION") == REVERSE_KEY, alias


def test_the_same_key_in_two_tenants_is_two_entries(world: World, cache_backend: str) -> None:
    key = "isolation-probe"
    with schema_context("acme"):
        cache.set(key, "acme's", timeout=60)
        assert cache.add(f"{key}-counter", 10, timeout=60)
    with schema_context("globex"):
        assert cache.get(key) is None
        assert cache.get_many([key, f"{key}-counter"]) == {}
        assert cache.add(f"{key}-counter", 100, timeout=60)  # not there yet in globex
        assert cache.incr(f"{key}-counter") == 101
        cache.set(key, "globex's", timeout=60)
        cache.delete(f"{key}-counter")
    with schema_context("acme"):
        assert cache.get(key) == "acme's"
        assert cache.incr(f"{key}-counter") == 11  # globex's delete did not touch acme's
    assert cache.get(key) is None  # public
    stored = [k for k in raw_keys(cache_backend) if "isolation-probe" in k]
    assert sorted(k.split(":", 1)[0] for k in stored) == ["acme", "acme", "globex"], stored


def test_the_rate_limit_counts_per_tenant_even_for_equal_key_ids(
    world: World, db: None, cache_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Key ids repeat across tenants (each schema numbers its own): the counters must not."""
    limit = 3
    acme_key = _key_row("acme", world.acme.read)
    globex_key = _key_row("globex", world.globex.read)
    assert acme_key == globex_key, "precondition: both read keys have the same id in their schemas"
    frozen = (time.time() // 60) * 60 + 1  # one window for the whole test
    monkeypatch.setattr("api.throttling.time", SimpleNamespace(time=lambda: frozen))
    acme = ApiClient(world.acme.host, world.acme.read)
    globex = ApiClient(world.globex.host, world.globex.read)
    with override_settings(SSI_RATE_LIMIT_PER_MINUTE=limit):
        assert [acme.get("/api/v1/teams").status_code for _ in range(limit)] == [200] * limit
        assert acme.get("/api/v1/teams").status_code == 429
        assert globex.get("/api/v1/teams").status_code == 200
        assert acme.get("/api/v1/teams").status_code == 429
    counters = sorted(k for k in raw_keys(cache_backend) if ":ratelimit:" in k)
    assert [k.split(":", 1)[0] for k in counters] == ["acme", "globex"], counters


def _key_row(schema: str, token: str) -> int:
    """The id of the API key whose token this is, in its tenant's schema."""
    with schema_context(schema):
        return int(ApiKey.objects.get(prefix=token_prefix(token)).pk)


def test_an_idempotency_key_is_scoped_to_the_tenant(world: World, db: None) -> None:
    """The same Idempotency-Key, from keys with the same id, in two tenants: two requests."""
    assert _key_row("acme", world.acme.integration) == _key_row("globex", world.globex.integration)
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    body = {"events": [{"id": "idem-1", "rep": "rep-1", "type": "post_published", "occurred_at": at}]}
    headers = {"Idempotency-Key": "isolation-probe-key"}
    acme = ApiClient(world.acme.host, world.acme.integration)
    globex = ApiClient(world.globex.host, world.globex.integration)
    first = acme.post("/api/v1/activities", body, headers=dict(headers))
    assert first.status_code == 200 and first.json()["accepted"] == 1
    elsewhere = globex.post("/api/v1/activities", body, headers=dict(headers))
    assert elsewhere.status_code == 200 and elsewhere.json()["accepted"] == 1, elsewhere.content
    assert not elsewhere.has_header("Idempotent-Replayed")
    again = acme.post("/api/v1/activities", body, headers=dict(headers))
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def test_no_product_code_reaches_a_cache_or_redis_around_the_key_function() -> None:
    """Cache users go through django.core.cache (whose every alias has make_key): no direct
    Redis client, no django-redis connection, no cache alias that is not configured."""
    forbidden = re.compile(
        r"^\s*(import redis|from redis\b|from django_redis\b|import django_redis)|get_redis_connection|"
        r"\bRedis\(|\.from_url\(",
        re.MULTILINE,
    )
    alias_use = re.compile(r"\bcaches\[\s*['\"]([^'\"]+)['\"]\s*\]")
    offenders: list[str] = []
    for package in PRODUCT_PACKAGES:
        for path in sorted((BASE_DIR / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            if forbidden.search(text):
                offenders.append(f"{path.relative_to(BASE_DIR)}: talks to Redis directly")
            for alias in alias_use.findall(text):
                if alias not in settings.CACHES:
                    offenders.append(f"{path.relative_to(BASE_DIR)}: cache alias {alias!r}")
    assert not offenders, offenders


# --- Celery: a task sent from tenant A runs in A, with its retries and the tasks it sends --------


def _prefixes(schema: str) -> list[str]:
    with schema_context(schema):
        return sorted(ApiKey.objects.values_list("prefix", flat=True))


def _records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.worker
@pytest.mark.parametrize("broker", ["filesystem", "redis"])
def test_tasks_retries_and_their_subtasks_run_in_the_tenant_that_sent_them(
    world: World, tmp_path: Path, django_db_blocker: Any, broker: str, request: pytest.FixtureRequest
) -> None:
    """acme and globex are committed (the worker sees them); the probes only read. On the
    filesystem broker and on Redis (production's; there the schema header reaches the task
    merged into its request: tenant-schemas-celery issue 12)."""
    broker_url = None
    if broker == "redis":
        broker_url = request.getfixturevalue("redis_url")
    with django_db_blocker.unblock():
        _run_probe_tasks(tmp_path, broker_url)


def _run_probe_tasks(tmp_path: Path, broker_url: str | None) -> None:
    from tests.support.probe_tasks import probe_autoretry, probe_fanout, probe_retry

    out = tmp_path / "probe.jsonl"
    tenants = {t.schema_name: t for t in Tenant.objects.filter(schema_name__in=["acme", "globex"])}
    expected = {schema: _prefixes(schema) for schema in tenants}
    assert expected["acme"] != expected["globex"]
    chunks = 3
    with celery_worker(tmp_path, include=["tests.support.probe_tasks"], broker_url=broker_url) as worker:
        for schema in ("acme", "globex", "acme", "globex"):  # interleaved on one worker connection
            with tenant_context(tenants[schema]):
                probe_retry.delay(str(out), f"{schema}/retry", 2)
                probe_autoretry.delay(str(out), f"{schema}/autoretry", 2)
                probe_fanout.delay(str(out), f"{schema}/fanout", chunks)
        per_schema = 2 * (3 + 3 + 1 + 2 * chunks)
        wait_for(
            lambda: worker.poll() is not None or len(_records(out)) >= 2 * per_schema,
            timeout=120, what="the probe tasks", log=tmp_path / "worker.log",
        )  # fmt: skip
        time.sleep(0.5)  # anything more (a retry too many) would show up now
    records = _records(out)
    assert len(records) == 2 * per_schema, records
    for item in records:
        schema = item["label"].split("/", 1)[0]
        assert item["schema_name"] == schema, item
        assert item["current_schema"] == schema, item
        assert item["key_prefixes"] == expected[schema], item
    for schema in ("acme", "globex"):
        tries = sorted(r["try"] for r in records if r["label"] == f"{schema}/retry")
        assert tries == [0, 0, 1, 1, 2, 2], tries
        tries = sorted(r["try"] for r in records if r["label"] == f"{schema}/autoretry")
        assert tries == [0, 0, 1, 1, 2, 2], tries
        sub = [r for r in records if r["label"].startswith(f"{schema}/fanout/")]
        assert len(sub) == 2 * 2 * chunks


@pytest.mark.worker
def test_a_task_sees_the_tenant_as_committed_not_as_the_worker_cached_it(
    committed_tenant: TenantKeys, tmp_path: Path
) -> None:
    """The worker caches tenant rows for a minute (tenant-schemas-celery issue 28). A time zone
    change enqueues the re-dating of events: it must use the new zone even when the worker
    ran a task for this tenant a moment before (the cached row still has the old one)."""
    keys = committed_tenant
    schema = keys.schema
    # 23:30 UTC: the next day in Berlin, the same day in New York.
    at = datetime.combine(timezone.now().date() - timedelta(days=2), dtime(23, 30), tzinfo=ZoneInfo("UTC"))
    events = [{"id": f"tz-{i}", "rep": "tz-rep", "type": "post_published", "occurred_at": at.isoformat()}
              for i in range(3)]  # fmt: skip
    client = ApiClient(keys.host, keys.admin)
    log = tmp_path / "worker.log"
    with celery_worker(tmp_path) as worker:
        assert client.post("/api/v1/activities", {"events": events}).json()["accepted"] == 3
        # The worker evaluates the batch's badges, in this tenant: it now holds the tenant row.
        wait_for(lambda: worker.poll() is not None or _evaluated(schema), timeout=60,
                 what="the badge evaluation", log=log)  # fmt: skip
        assert _redated(schema, at.date() + timedelta(days=1))  # Berlin days so far
        answer = client.patch("/api/v1/settings", {"timezone": "America/New_York"})
        assert answer.status_code == 200, answer.content
        wait_for(lambda: worker.poll() is not None or _redated(schema, at.date()), timeout=30,
                 what="the events re-dated to New York days", log=log)  # fmt: skip
        assert worker.poll() is None, log.read_text()[-2000:]
    with schema_context(schema):
        assert list(ActivityDaily.objects.values_list("day", "n")) == [(at.date(), 3)]


def _evaluated(schema: str) -> bool:
    with schema_context(schema):
        return not PendingEvaluation.objects.exists()


def _redated(schema: str, day: Any) -> bool:
    with schema_context(schema):
        return set(Activity.objects.values_list("local_day", flat=True)) == {day}


@pytest.fixture
def second_committed_tenant(world: World, django_db_blocker: Any) -> Iterator[TenantKeys]:
    slug = f"c-second-{os.getpid() % 10000}-{int(time.time() * 1000) % 100000}"
    with committed_tenant_made(slug, django_db_blocker, name="Second", tz="America/New_York") as keys:
        yield keys


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


def _ingest_yesterday(keys: TenantKeys, prefix: str) -> None:
    tenant = Tenant.objects.get(slug=keys.slug)
    day = local_yesterday(tenant.timezone)
    at = datetime.combine(day, dtime(10), tzinfo=ZoneInfo(tenant.timezone))
    events = [
        {"id": f"{prefix}-{i}", "rep": f"{prefix}-rep-{i % 3}", "type": "post_published",
         "occurred_at": (at + timedelta(minutes=i)).isoformat()}
        for i in range(9)
    ]  # fmt: skip
    answer = ApiClient(keys.host, keys.integration).post("/api/v1/activities", {"events": events})
    assert answer.status_code == 200 and answer.json()["accepted"] == 9, answer.content


@pytest.mark.worker
@override_settings(SSI_DISPATCH_JITTER_SECONDS=0)
def test_the_nightly_fan_out_and_its_webhook_deliveries_stay_in_each_tenant(
    committed_tenant: TenantKeys,
    second_committed_tenant: TenantKeys,
    receiver: Receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """dispatch_nightly (public) -> run_job per tenant -> day hooks -> scores.computed in the
    outbox -> dispatch_outbox -> one deliver per delivery (the first answered 500, retried)."""
    monkeypatch.setenv("SSI_WEBHOOK_BACKOFF_SECONDS", "1")
    pair = {"a": committed_tenant, "b": second_committed_tenant}
    tenants = {name: Tenant.objects.get(slug=keys.slug) for name, keys in pair.items()}
    secrets = {}
    for name, keys in pair.items():
        Tenant.objects.filter(pk=tenants[name].pk).update(settings={"recompute_hour": 0})
        _ingest_yesterday(keys, name)
        answer = ApiClient(keys.host, keys.admin).post(
            "/api/v1/webhooks", {"url": receiver.url(f"/{name}"), "events": ["scores.computed"]}
        )
        assert answer.status_code == 201, answer.content
        secrets[name] = answer.json()["secret"]
    others = Tenant.objects.exclude(pk__in=[t.pk for t in tenants.values()])
    saved = {t.pk: t.scored_through for t in others}
    others.update(scored_through=timezone.now().date() + timedelta(days=2))
    days = int(settings.SSI_CATCHUP_DAYS)
    receiver.fail_next = 1
    try:
        with celery_worker(tmp_path) as worker:
            assert dispatch_nightly() == 2
            wait_for(
                lambda: worker.poll() is not None or _all_delivered(tenants, days),
                timeout=180, what="the nightly runs and their deliveries", log=tmp_path / "worker.log",
            )  # fmt: skip
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-2000:]
    finally:
        for pk, value in saved.items():
            Tenant.objects.filter(pk=pk).update(scored_through=value)

    for name, tenant in tenants.items():
        with tenant_context(tenant):
            assert Job.objects.get().status == Job.Status.SUCCEEDED
            reps = set(ScoreSnapshot.objects.values_list("rep__external_id", flat=True))
            assert reps == {f"{name}-rep-{i}" for i in range(3)}
            delivered = set(WebhookDelivery.objects.values_list("id", flat=True))
        got = [r for r in receiver.requests if r.path == f"/{name}"]
        ids = {r.headers["X-SSI-Delivery"] for r in got}
        assert ids == {str(d) for d in delivered}, (name, ids, delivered)
        for request in got:
            assert signed_with(secrets[name], request), name
            assert json.loads(request.body)["type"] == "scores.computed"
    assert len(receiver.requests) == 2 * days + 1  # every delivery once, one of them twice


def _all_delivered(tenants: dict[str, Tenant], days: int) -> bool:
    for tenant in tenants.values():
        with tenant_context(tenant):
            statuses = list(WebhookDelivery.objects.values_list("status", flat=True))
        if len(statuses) < days or any(s != WebhookDelivery.Status.SUCCEEDED for s in statuses):
            return False
    return True


# --- Savepoints (django-tenants issue 1262) ------------------------------------------------------


def test_limit_set_calls_is_on_only_with_the_savepoint_fix() -> None:
    """The setting is safe only where a test proves it
    (docs/traps.md#a-stale-search_path-after-a-rollback). It is on (one SET per schema
    switch on the read path) because the installed django-tenants forgets its cached
    search_path on rollback and savepoint rollback (the tests below and
    tests/tenants/test_search_path.py prove it), and tenants.apps refuses to start otherwise."""
    from django_tenants.postgresql_backend.base import DatabaseWrapper

    assert settings.TENANT_LIMIT_SET_CALLS is True
    assert get_limit_set_calls() is True
    assert "savepoint_rollback" in vars(DatabaseWrapper) and "rollback" in vars(DatabaseWrapper)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def test_a_request_failing_in_a_savepoint_leaves_the_next_tenant_request_on_its_schema(
    acme: ApiClient, globex: ApiClient
) -> None:
    """The test's transaction stands for the request's: the view's atomic block is a savepoint."""
    assert acme.post("/api/v1/teams", {"name": "acme-team"}).status_code == 201
    assert globex.post("/api/v1/teams", {"name": "globex-team"}).status_code == 201
    pid = _backend_pid()
    duplicate = acme.post("/api/v1/teams", {"name": "acme-team"})  # IntegrityError in a savepoint
    assert duplicate.status_code == 409, duplicate.content
    listed = globex.get("/api/v1/teams")
    assert listed.status_code == 200
    assert [t["name"] for t in listed.json()["results"]] == ["globex-team"]
    assert [t["name"] for t in acme.get("/api/v1/teams").json()["results"]] == ["acme-team"]
    assert _backend_pid() == pid  # all of it on one connection


def _probe(client: ApiClient, mode: str) -> dict[str, Any]:
    with override_settings(ROOT_URLCONF="tests.support.probe_urls"):
        answer = client.get("/probe/savepoint", {"other": "globex", "mode": mode})
    assert answer.status_code == 200, answer.content[:500]
    out: dict[str, Any] = answer.json()
    assert out["error"] == "DataError"
    return out


@pytest.mark.parametrize("mode", ["restore", "switch"])
def test_after_a_rolled_back_savepoint_queries_run_where_the_connection_says(
    acme: ApiClient, globex: ApiClient, world: World, mode: str
) -> None:
    assert acme.post("/api/v1/teams", {"name": "acme-team"}).status_code == 201
    assert globex.post("/api/v1/teams", {"name": "globex-team"}).status_code == 201
    prefixes = {schema: _prefixes(schema) for schema in ("acme", "globex")}
    pid = _backend_pid()
    out = _probe(acme, mode)
    acme_view = {"schema_name": "acme", "current_schema": "acme", "teams": ["acme-team"],
                 "key_prefixes": prefixes["acme"]}  # fmt: skip
    globex_view = {"schema_name": "globex", "current_schema": "globex", "teams": ["globex-team"],
                   "key_prefixes": prefixes["globex"]}  # fmt: skip
    assert out["before"] == acme_view
    assert out["inside"] == globex_view
    # restore: back in acme, and the team written in the savepoint is gone; switch: still globex.
    assert out["after"] == (acme_view if mode == "restore" else globex_view)
    assert out["restored"] == acme_view
    # The next request on this connection, for the other tenant, reads its own rows only.
    assert [t["name"] for t in globex.get("/api/v1/teams").json()["results"]] == ["globex-team"]
    assert _backend_pid() == pid


def test_the_probe_catches_issue_1262_when_the_setting_is_on_without_the_fix(
    acme: ApiClient, globex: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Control: TENANT_LIMIT_SET_CALLS on, and savepoint_rollback as before django-tenants'
    fix: after the rollback the connection names globex while PostgreSQL searches acme, so
    the probe above fails. Why the setting needs the fix:
    docs/traps.md#a-stale-search_path-after-a-rollback."""
    assert acme.post("/api/v1/teams", {"name": "acme-team"}).status_code == 201
    assert globex.post("/api/v1/teams", {"name": "globex-team"}).status_code == 201
    monkeypatch.setattr(TenantWrapper, "savepoint_rollback", PlainPostgresWrapper.savepoint_rollback)
    with override_settings(TENANT_LIMIT_SET_CALLS=True):
        out = _probe(acme, "switch")
    assert out["after"]["schema_name"] == "globex"
    assert out["after"]["current_schema"] == "acme"  # the stale search_path of issue 1262
    assert out["after"]["teams"] == ["acme-team"]  # another tenant's rows, no error
