"""``DELETE /api/v1/reps/{id}?erase=true``: a rep's personal data erased, its scores still counted
(docs/security.md#erasing-a-rep).

The rep ``zq-7`` (Zelda Quux, zelda.quux@acme.example) is named everywhere the product can name a
rep: events with metadata, a rep token (and its revocation in the audit log), a goal, a contest
among listed reps, a challenge, a webhook event, a preview job's answer, an answer kept for an
``Idempotency-Key``. After the erasure, every text and JSON column of acme's schema is searched
for the name, the email, the old external_id and the metadata.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection

from access.models import AuditEntry, RepSession, RepToken
from gamification.services.outbox import event_emit
from provisioning.erasure import erased_external_id
from scoring.engine import DEFAULT
from scoring.models import Activity, Rep, ScoreSnapshot
from scoring.services.jobs import job_run, preview_job_create
from scoring.services.recompute import scores_compute_day
from tests.support.http import ApiClient, assert_error
from tests.support.rep_tokens import mint
from tests.support.tenants import World, in_tenant

D = date(2026, 3, 10)
REP, NAME, EMAIL = "zq-7", "Zelda Quux", "zelda.quux@acme.example"
SECRET_NOTE = "quux-private-note"
NEEDLES = (REP, NAME, EMAIL, "zelda", SECRET_NOTE)


def when(offset: int, hour: int = 10) -> str:
    return f"{(D + timedelta(days=offset)).isoformat()}T{hour:02d}:00:00+01:00"


def compute(*days: date) -> None:
    with in_tenant("acme") as tenant:
        for d in days:
            scores_compute_day(tenant=tenant, day=d)


def erase(client: ApiClient, rep: str = REP) -> Any:
    return client.delete(f"/api/v1/reps/{rep}?erase=true")


@pytest.fixture
def named(acme: ApiClient) -> dict[str, Any]:
    """zq-7 and a colleague, with events on D-1 and D (both scored), and zq-7 named everywhere."""
    team = acme.post("/api/v1/teams", {"name": "North"}).json()["id"]
    created = acme.post("/api/v1/reps", {"external_id": REP, "name": NAME, "email": EMAIL, "team": team})
    assert created.status_code == 201, created.content
    assert acme.post("/api/v1/reps", {"external_id": "pal", "name": "Pal", "team": team}).status_code == 201
    events = [
        {"id": f"{REP}-e1", "rep": REP, "type": "profile_updated", "occurred_at": when(-1), "value": 90,
         "metadata": {"note": SECRET_NOTE, "author": NAME}},
        {"id": f"{REP}-e2", "rep": REP, "type": "post_published", "occurred_at": when(0),
         "metadata": {"by": EMAIL}},
        {"id": "pal-e1", "rep": "pal", "type": "post_published", "occurred_at": when(0)},
        {"id": f"{REP}-bad", "rep": REP, "type": "no_such_type", "occurred_at": when(0)},
    ]  # fmt: skip
    # The answer, kept for the Idempotency-Key, names the refused event (and so the rep).
    answer = acme.post("/api/v1/activities", {"events": events}, headers={"Idempotency-Key": "zq-batch"})
    assert answer.json()["accepted"] == 3 and REP in answer.content.decode()
    compute(D - timedelta(days=1), D)
    mint(acme, REP)
    assert acme.post("/api/v1/rep-tokens/revoke", {"rep": REP}).status_code == 200  # audited, names it
    token = mint(acme, REP)["token"]
    goal = {"title": "Posts", "rep": REP, "metric": "xp", "target": 50,
            "start_date": "2026-01-01", "end_date": "2026-12-31"}  # fmt: skip
    assert acme.post("/api/v1/goals", goal).status_code == 201
    contest = {"name": "Spring", "metric": "xp", "kind": "leaderboard", "start_date": "2026-03-01",
               "end_date": "2026-03-31", "participants": {"reps": [REP, "pal"]}}  # fmt: skip
    contest_id = acme.post("/api/v1/contests", contest).json()["id"]
    challenge = {"challenger": REP, "opponent": "pal", "metric": "xp",
                 "start_date": "2026-03-01", "end_date": "2026-03-20"}  # fmt: skip
    assert acme.post("/api/v1/challenges", challenge).status_code == 201
    with in_tenant("acme") as tenant:
        event_emit(type="level.up", data={"rep": REP, "level": 2, "xp": 100})
        rep_id = Rep.objects.get(external_id=REP).pk
        job = preview_job_create(config=DEFAULT, day=D, rep_ids=None)
        job_run(tenant=tenant, job_id=str(job.id))
    return {"rep_id": rep_id, "token": token, "contest": contest_id, "team": team}


def text_columns() -> list[tuple[str, str]]:
    """Every text, varchar and JSON column of the current (tenant) schema."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() "
            "AND data_type IN ('text', 'character varying', 'json', 'jsonb')"
        )
        return sorted(cursor.fetchall())


def mentions(needle: str) -> list[tuple[str, str, int]]:
    """(table, column, rows) wherever ``needle`` appears, case-insensitively, in acme's schema."""
    found = []
    with in_tenant("acme"), connection.cursor() as cursor:
        for table, column in text_columns():
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE strpos(lower("{column}"::text), lower(%s)) > 0',
                [needle],
            )
            count = cursor.fetchone()[0]
            if count:
                found.append((table, column, count))
    return found


def test_before_the_erasure_the_search_finds_the_rep_everywhere(
    acme: ApiClient, named: dict[str, Any]
) -> None:
    # The search below would see the data: each place is found before the erasure.
    places = {(t, c) for needle in NEEDLES for t, c, _ in mentions(needle)}
    assert {
        ("scoring_rep", "external_id"),
        ("scoring_rep", "name"),
        ("scoring_rep", "email"),
        ("scoring_activity", "metadata"),
        ("scoring_activity", "event_id"),
        ("api_auditentry", "target_id"),
        ("api_auditentry", "after"),
        ("gamification_contest", "participants"),
        ("gamification_outboxevent", "data"),
        ("scoring_previewresult", "rep"),
        ("scoring_idempotencyrecord", "body"),
    } <= places, places


def test_an_erasure_leaves_no_name_email_id_or_metadata_anywhere(
    acme: ApiClient, named: dict[str, Any]
) -> None:
    assert erase(acme).status_code == 204
    for needle in NEEDLES:
        assert mentions(needle) == [], needle
    with in_tenant("acme"):
        rep = Rep.objects.get(pk=named["rep_id"])
        assert (rep.name, rep.email, rep.team_id, rep.active) == ("", "", None, False)
        assert rep.external_id == erased_external_id(REP) and rep.erased_at is not None
        events = list(Activity.objects.filter(rep_id=rep.pk))
        assert len(events) == 2
        assert all(e.metadata is None and e.event_id.startswith("erased-") for e in events)
        # What scores are made of stays: types, days and values.
        assert sorted((e.type, e.value) for e in events) == [
            ("post_published", 1.0),
            ("profile_updated", 90.0),
        ]
        assert not RepToken.objects.filter(rep_id=rep.pk).exists()
        assert not RepSession.objects.filter(rep_id=rep.pk).exists()
        assert ScoreSnapshot.objects.filter(rep_id=rep.pk).count() == 2


def test_the_api_shows_an_anonymous_inactive_rep(
    world: World, acme: ApiClient, named: dict[str, Any]
) -> None:
    assert erase(acme).status_code == 204
    assert_error(acme.get(f"/api/v1/reps/{REP}"), 404)
    new_id = erased_external_id(REP)
    card = acme.get(f"/api/v1/reps/{new_id}").json()
    assert (card["name"], card["email"], card["team"], card["active"]) == ("", "", None, False)
    assert card["ssi"]["date"] == D.isoformat()  # its scores are still there
    listed = acme.get("/api/v1/activities", {"rep": new_id}).json()["results"]
    assert len(listed) == 2 and all(e.get("metadata") is None for e in listed)
    assert all(not e["id"].startswith(REP) for e in listed)
    # The contest still counts it, under its new id.
    participants = acme.get(f"/api/v1/contests/{named['contest']}").json()["participants"]
    assert sorted(participants["reps"]) == sorted([new_id, "pal"])
    # Its rep token no longer opens anything.
    assert ApiClient(world.acme.host, named["token"]).get(f"/api/v1/reps/{new_id}").status_code == 401


def test_the_erasure_is_audited_without_personal_data(acme: ApiClient, named: dict[str, Any]) -> None:
    assert erase(acme).status_code == 204
    entries = acme.get("/api/v1/audit-log", {"action": "erase"}).json()["results"]
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["target_type"], entry["target_id"]) == ("rep", erased_external_id(REP))
    assert entry["after"] == {"erased": True, "events": 2, "rep_tokens_revoked": 1}
    text = str(entry).lower()
    assert not any(needle.lower() in text for needle in NEEDLES)


def test_past_company_and_team_ssi_do_not_change(acme: ApiClient, named: dict[str, Any]) -> None:
    days = [(D - timedelta(days=1)).isoformat(), D.isoformat()]
    company = [acme.get("/api/v1/company/ssi", {"date": d}).json() for d in days]
    team = [acme.get(f"/api/v1/teams/{named['team']}/ssi", {"date": d}).json() for d in days]
    assert company[1]["reps"] == 2 and company[1]["mean"] > 0
    assert erase(acme).status_code == 204
    assert [acme.get("/api/v1/company/ssi", {"date": d}).json() for d in days] == company
    assert [acme.get(f"/api/v1/teams/{named['team']}/ssi", {"date": d}).json() for d in days] == team
    # The next day scored counts active reps only: the erased rep is not in it.
    compute(D + timedelta(days=1))
    assert acme.get("/api/v1/company/ssi", {"date": (D + timedelta(days=1)).isoformat()}).json()["reps"] == 1


def test_a_past_day_scored_again_still_counts_the_erased_rep_in_its_team(
    acme: ApiClient, named: dict[str, Any]
) -> None:
    """A recompute of a past day (a new config, late events) keeps the erased rep in that day's
    snapshots and summaries, in the team it was in, though the rep is inactive and teamless now."""
    day = D.isoformat()
    company = acme.get("/api/v1/company/ssi", {"date": day}).json()
    team = acme.get(f"/api/v1/teams/{named['team']}/ssi", {"date": day}).json()
    assert erase(acme).status_code == 204
    compute(D)
    assert acme.get("/api/v1/company/ssi", {"date": day}).json() == company
    assert acme.get(f"/api/v1/teams/{named['team']}/ssi", {"date": day}).json() == team
    with in_tenant("acme"):
        kept = ScoreSnapshot.objects.get(rep_id=named["rep_id"], day=D)
        assert kept.team_id == named["team"] and kept.ssi > 0
        assert Rep.objects.get(pk=named["rep_id"]).team_id is None


def test_a_second_erasure_by_either_id_changes_nothing(acme: ApiClient, named: dict[str, Any]) -> None:
    assert erase(acme).status_code == 204
    with in_tenant("acme"):
        before = Rep.objects.filter(pk=named["rep_id"]).values().get()
        event_ids = sorted(Activity.objects.filter(rep_id=named["rep_id"]).values_list("event_id", flat=True))
        entries = AuditEntry.objects.count()
    assert erase(acme).status_code == 204
    assert erase(acme, erased_external_id(REP)).status_code == 204
    with in_tenant("acme"):
        assert Rep.objects.filter(pk=named["rep_id"]).values().get() == before
        assert (
            sorted(Activity.objects.filter(rep_id=named["rep_id"]).values_list("event_id", flat=True))
            == event_ids
        )
        assert AuditEntry.objects.count() == entries


def test_erasing_a_rep_that_never_was_is_a_404(acme: ApiClient, named: dict[str, Any]) -> None:
    assert_error(erase(acme, "nobody"), 404)


@pytest.mark.parametrize("value", ["yes", "1", "TRUE", ""])
def test_erase_takes_true_or_false_only(acme: ApiClient, named: dict[str, Any], value: str) -> None:
    assert_error(acme.delete(f"/api/v1/reps/{REP}?erase={value}"), 400, code="invalid", attr="erase")
    with in_tenant("acme"):
        assert Rep.objects.get(pk=named["rep_id"]).name == NAME


def test_without_erase_a_delete_still_deletes_everything(acme: ApiClient, named: dict[str, Any]) -> None:
    assert acme.delete(f"/api/v1/reps/{REP}?erase=false").status_code == 204
    with in_tenant("acme"):
        assert not Rep.objects.filter(pk=named["rep_id"]).exists()
        assert not ScoreSnapshot.objects.filter(rep_id=named["rep_id"]).exists()
    assert acme.get("/api/v1/company/ssi", {"date": D.isoformat()}).json()["reps"] == 1


@pytest.mark.parametrize("role", ["integration", "read"])
def test_only_an_admin_key_erases(world: World, named: dict[str, Any], role: str) -> None:
    client = ApiClient(world.acme.host, getattr(world.acme, role))
    assert_error(erase(client), 403)
    assert_error(erase(ApiClient(world.acme.host, named["token"])), 403)
    with in_tenant("acme"):
        assert Rep.objects.get(pk=named["rep_id"]).email == EMAIL


def test_it_denies_cross_tenant_access(world: World, globex: ApiClient, named: dict[str, Any]) -> None:
    assert_error(erase(globex), 404)
    assert_error(erase(ApiClient(world.acme.host, world.globex.admin)), 401)
    with in_tenant("acme"):
        assert Rep.objects.get(pk=named["rep_id"]).name == NAME
    # A rep of globex with the same external_id is globex's own: erasing it leaves acme's alone.
    assert globex.post("/api/v1/reps", {"external_id": REP, "name": NAME}).status_code == 201
    assert erase(globex).status_code == 204
    with in_tenant("acme"):
        rep = Rep.objects.get(pk=named["rep_id"])
        assert (rep.external_id, rep.name, rep.erased_at) == (REP, NAME, None)
    with in_tenant("globex"):
        assert Rep.objects.get(external_id=erased_external_id(REP)).name == ""
