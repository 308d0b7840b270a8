"""A level reached by ingestion is announced in Slack and Teams by a real Celery worker.

Everything commits (``committed_tenant``): ingestion writes the outbox event, its on-commit
hook enqueues the fan-out, the worker POSTs to local receivers that answer as the chat tools do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.chat_formats import slack_problems, teams_problems, teams_text
from tests.support.http import ApiClient
from tests.support.tenants import TenantKeys
from tests.support.webhooks import Receiver, running_receiver, signed_with
from tests.support.worker import celery_worker, wait_for


@pytest.fixture
def slack() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        receiver.validate = slack_problems
        yield receiver


@pytest.fixture
def teams() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        receiver.validate = teams_problems
        yield receiver


def statuses(keys: TenantKeys, webhook_id: int) -> list[str]:
    answer = ApiClient(keys.host, keys.admin).get(f"/api/v1/webhooks/{webhook_id}/deliveries")
    assert answer.status_code == 200, answer.content
    return [d["status"] for d in answer.json()["results"]]


@pytest.mark.worker
def test_a_level_up_from_ingestion_reaches_slack_and_teams_through_a_worker(
    committed_tenant: TenantKeys, slack: Receiver, teams: Receiver, tmp_path: Path
) -> None:
    admin = ApiClient(committed_tenant.host, committed_tenant.admin)
    hooks: dict[str, dict[str, Any]] = {}
    for format, receiver in (("slack", slack), ("teams", teams)):
        answer = admin.post(
            "/api/v1/webhooks", {"url": receiver.url(), "events": ["level.up"], "format": format}
        )
        assert answer.status_code == 201, answer.content
        hooks[format] = answer.json()
    at = datetime.now(UTC) - timedelta(minutes=5)
    events = [
        {"id": f"chat-{i}", "rep": "chat-7", "type": "post_published", "occurred_at": at.isoformat()}
        for i in range(10)  # 10 x 10 XP: level 2
    ]
    log = tmp_path / "worker.log"
    with celery_worker(tmp_path) as worker:
        answer = ApiClient(committed_tenant.host, committed_tenant.integration).post(
            "/api/v1/activities", {"events": events}
        )
        assert answer.status_code == 200 and answer.json()["accepted"] == 10, answer.content
        (to_slack,), (to_teams,) = slack.wait_for(1, timeout=60), teams.wait_for(1, timeout=60)
        for format, hook in hooks.items():
            webhook_id = hook["id"]
            wait_for(
                lambda: statuses(committed_tenant, webhook_id) == ["succeeded"],  # noqa: B023 (called at once)
                what=f"the {format} delivery to succeed",
                log=log,
            )
        assert worker.poll() is None, log.read_text()[-2000:]

    assert json.loads(to_slack.body)["text"] == "⭐ chat-7 reached *level 2* (100 XP)"
    assert teams_text(to_teams.body) == ["⭐ Level up", "chat-7 reached level 2 (100 XP)"]
    assert signed_with(hooks["slack"]["secret"], to_slack) and signed_with(hooks["teams"]["secret"], to_teams)
    assert to_slack.headers["X-SSI-Event"] == to_teams.headers["X-SSI-Event"] == "level.up"
