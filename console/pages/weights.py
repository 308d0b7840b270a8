"""Scoring weights (``/console/weights``): the current config as a form, a what-if preview of a
draft, publishing it as a new version, and the version history with readable diffs.

Everyone signed in reads; only admins preview and publish (as only admin keys may PUT or
preview the config). Validation, previews and saving are the API's own services:
``config_parse_or_400`` and ``scoring_config_save`` (``scoring.services.config``), the preview
(``scoring.services.preview``, summed up by ``scoring.services.preview_summary``) and, above
``INLINE_REPS`` reps, a preview job that a worker computes; the job keeps the draft.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import path

from access.models import AuditEntry, MemberRole
from console.pages import actor_of_member, console_page, member_of
from console.weights_form import (
    JSON_BASE_FIELD,
    JSON_FIELD,
    config_diff,
    draft_with_fields,
    every_field,
    form_groups,
    json_text,
)
from core.errors import ValidationFailed
from scoring.models import Job, Rep, ScoringConfig
from scoring.services.config import config_parse_or_400, scoring_config_current, scoring_config_save
from scoring.services.jobs import preview_job_create
from scoring.services.preview import PREVIEW
from scoring.services.preview_summary import (
    Move,
    PreviewSummary,
    preview_day_latest,
    preview_job_summary,
    preview_summary_inline,
)

PAGE_SIZE = 50
BAND_LABELS = (
    ("good", "Good (70 and above)"),
    ("okay", "Okay (40 to under 70)"),
    ("poor", "Poor (under 40)"),
)


# --- who published ------------------------------------------------------------------------------


def _actor_text(kind: str, name: str, prefix: str) -> str:
    if kind == AuditEntry.ActorKind.MEMBER:
        return name
    if kind == AuditEntry.ActorKind.KEY:
        return f"API key {name or prefix}".strip()
    if kind == AuditEntry.ActorKind.PLATFORM:
        return "The platform operator"
    return "The system"


def publishers(rows: list[ScoringConfig]) -> dict[int, str]:
    """Who saved each version, as the audit log records it (one query); a version with no
    entry (version 1, the default) by its ``created_by``."""
    entries = AuditEntry.objects.filter(
        target_type=AuditEntry.TargetType.SCORING_CONFIG,
        action=AuditEntry.Action.UPDATE,
        target_id__in=[str(r.version) for r in rows],
    ).values_list("target_id", "actor_kind", "actor_name", "actor_prefix")
    out = {int(target): _actor_text(kind, name, prefix) for target, kind, name, prefix in entries}
    for row in rows:
        if row.version not in out:
            out[row.version] = (
                "Default config" if row.created_by == "default" else row.created_by or "Unknown"
            )
    return out


def _version_row(version: int) -> ScoringConfig | None:
    return ScoringConfig.objects.filter(version=version).only("version", "created_at", "created_by").first()


# --- the form page ------------------------------------------------------------------------------


def _moves_named(summary: PreviewSummary | None) -> list[tuple[Move, int | None, str]]:
    """A preview's largest moves with each rep's id and name (one query for the ten of them)."""
    if summary is None:
        return []
    rows = Rep.objects.filter(external_id__in=[m.rep for m in summary.moves]).values_list(
        "external_id", "id", "name"
    )
    named = {external_id: (rep_id, name) for external_id, rep_id, name in rows}
    return [(m, *named.get(m.rep, (None, ""))) for m in summary.moves]


def _render_form(
    request: HttpRequest,
    *,
    draft: Any,
    json_typed: str | None = None,
    entered: QueryDict | None = None,
    errors: list[tuple[str, str]] = (),  # type: ignore[assignment]
    summary: PreviewSummary | None = None,
    job: Job | None = None,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    """The weights page: ``draft`` (a config's JSON) in the form, the fields as ``entered``
    when given, each error next to its field (unmatched ones at the top), and a preview."""
    current = scoring_config_current()
    row = _version_row(current.version)
    general, groups = form_groups(draft)
    by_name = {
        f.name: f
        for f in general + [f for g in groups for f in g.fields + [x for s in g.signals for x in s.fields]]
    }
    top: list[str] = []
    json_error = ""
    for attr, message in errors:
        if attr in by_name:
            by_name[attr].error = message
        elif attr == JSON_FIELD:
            json_error = message
        else:
            top.append(f"{attr}: {message}" if attr else message)
    if entered is not None:
        for name, f in by_name.items():
            if name in entered:
                f.value = str(entered.get(name, ""))
    text = json_text(draft)
    context = {
        "current": current,
        "current_row": row,
        "published_by": publishers([row]).get(current.version, "") if row else "",
        "general": general,
        "groups": groups,
        "json_field": JSON_FIELD,
        "json_base_field": JSON_BASE_FIELD,
        "json_text": json_typed if json_typed is not None else text,
        "json_base": text,
        "json_error": json_error,
        "top_errors": top,
        "error_count": sum(1 for f in by_name.values() if f.error) + len(top) + bool(json_error),
        "summary": summary,
        "moves": _moves_named(summary),
        "bands": [(label, summary.bands_before[key], summary.bands_after[key]) for key, label in BAND_LABELS]
        if summary
        else [],
        "job": job,
        "draft_json": json.dumps(draft, separators=(",", ":")),
        "notice": notice,
        "messages_ok": notice,
    }
    page = "console/weights.html"
    return render(request, page, context, status=status)


@console_page()
def weights(request: HttpRequest) -> HttpResponse:
    published = request.GET.get("published", "")
    notice = f"Published version {int(published)}" if published.isdigit() else ""
    return _render_form(request, draft=scoring_config_current().config.to_dict(), notice=notice)


def _draft_of(request: HttpRequest) -> tuple[Any, str | None, list[tuple[str, str]]]:
    """The draft a form posts: its JSON when it was edited (it wins), else the JSON it was
    rendered with and the fields typed into it. Returns (draft, JSON as typed, errors)."""
    base_text = request.POST.get(JSON_BASE_FIELD, "")
    typed = request.POST.get(JSON_FIELD, base_text)
    try:
        base = json.loads(base_text)
    except ValueError:
        base = scoring_config_current().config.to_dict()
    try:
        typed_json = json.loads(typed)
    except ValueError as exc:
        return base, typed, [(JSON_FIELD, f"Not valid JSON: {exc}.")]
    if typed_json != base:
        return typed_json, typed, []
    return draft_with_fields(base, request.POST), None, []


@console_page(role=MemberRole.ADMIN, methods=("POST",))
def preview(request: HttpRequest) -> HttpResponse:
    """Validate the draft; preview it for the latest scored day, in the request when the reps
    are few (``INLINE_REPS``), else as a job (its page shows the answer when a worker is done)."""
    draft, typed, errors = _draft_of(request)
    entered = request.POST if typed is None else None
    if errors:
        return _render_form(request, draft=draft, json_typed=typed, errors=errors, status=400)
    try:
        config = config_parse_or_400(draft)
    except ValidationFailed as exc:
        attr = exc.attr or ""
        if typed is not None and attr not in {f.name for f in every_field(draft)}:
            attr = JSON_FIELD  # the JSON was used: what no field shows is the JSON's error
            message = f"{exc.attr}: {exc.detail}" if exc.attr else exc.detail
        else:
            message = exc.detail
        return _render_form(
            request, draft=draft, json_typed=typed, entered=entered, errors=[(attr, message)], status=400
        )
    day = preview_day_latest()
    if day is None:
        return _render_form(
            request,
            draft=draft,
            entered=entered,
            errors=[("", "No day has been scored yet: nothing to preview.")],
        )
    summary = preview_summary_inline(config=config, day=day)
    if summary is None:
        job = preview_job_create(config=config, day=day, rep_ids=None)
        return HttpResponseRedirect(f"/console/weights/preview/{job.pk}", status=303)
    return _render_form(request, draft=config.to_dict(), summary=summary)


@console_page(role=MemberRole.ADMIN)
def preview_job(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """A preview job's page: the draft it keeps, "Preview running…" until a worker is done,
    then its answer and the Publish button."""
    job = Job.objects.filter(pk=job_id, kind=PREVIEW).first()
    if job is None:
        raise Http404("No such preview.")
    summary = preview_job_summary(job) if job.status == Job.Status.SUCCEEDED else None
    return _render_form(request, draft=job.params["config"], summary=summary, job=job)


@console_page(role=MemberRole.ADMIN, methods=("POST",))
def publish(request: HttpRequest) -> HttpResponse:
    """Save the previewed draft as a new version, with the member as the audit log's actor."""
    try:
        draft = json.loads(request.POST.get("draft", ""))
    except ValueError:
        draft = None
    if draft is None:
        return _render_form(
            request,
            draft=scoring_config_current().config.to_dict(),
            errors=[("", "Nothing to publish: preview a draft first.")],
            status=400,
        )
    based_on = request.POST.get("based_on", "")
    current = scoring_config_current().version
    if based_on != str(current):
        return _render_form(
            request,
            draft=draft,
            errors=[("", f"Version {current} was published after this preview: preview the draft again.")],
            status=409,
        )
    member = member_of(request)
    try:
        saved = scoring_config_save(
            data=draft, actor=actor_of_member(request), created_by=f"member:{member.pk}"
        )
    except ValidationFailed as exc:
        return _render_form(request, draft=draft, errors=[(exc.attr or "", exc.detail)], status=400)
    return HttpResponseRedirect(f"/console/weights?published={saved.version}", status=303)


# --- versions -------------------------------------------------------------------------------------


@console_page()
def versions(request: HttpRequest) -> HttpResponse:
    rows = ScoringConfig.objects.order_by("-version").only("version", "created_at", "created_by")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    who = publishers(items)
    return render(
        request,
        "console/weights_versions.html",
        {"page": page, "rows": [(r, who[r.version]) for r in items]},
    )


@console_page()
def version(request: HttpRequest, number: int) -> HttpResponse:
    row = ScoringConfig.objects.filter(version=number).first()
    if row is None:
        raise Http404("No such version.")
    previous = ScoringConfig.objects.filter(version__lt=number).order_by("-version").first()
    lines = config_diff(previous.config, row.config) if previous else []
    return render(
        request,
        "console/weights_version.html",
        {
            "row": row,
            "previous": previous,
            "lines": lines,
            "who": publishers([row])[row.version],
            "config_json": json_text(row.config),
        },
    )


urls = [
    path("weights", weights, name="console-weights"),
    path("weights/preview", preview, name="console-weights-preview"),
    path("weights/preview/<uuid:job_id>", preview_job, name="console-weights-preview-job"),
    path("weights/publish", publish, name="console-weights-publish"),
    path("weights/versions", versions, name="console-weights-versions"),
    path("weights/versions/<int:number>", version, name="console-weights-version"),
]
