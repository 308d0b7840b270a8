"""Scores: on-demand recompute and jobs (a preview's answer too), a rep's SSI/history/explanation,
a day's scores (JSON or CSV)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from django.db.models import F
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import renderers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.csv_export import csv_response
from api.pagination import PagePagination
from api.permissions import ADMIN, KEY_ROLES, key_roles, own_rep_or_key_roles
from api.v1.serializers import body_object, external_id_list, parse_date
from core.clock import local_today, local_yesterday
from core.errors import Conflict, NotFound, ValidationFailed
from scoring.engine import PILLARS, round2
from scoring.engine.config import KINDS
from scoring.models import Job, Rep, ScoredDay, ScoreSnapshot
from scoring.read import averages_by_day, rep_explain, rep_history, rep_ssi_get, snapshot_body
from scoring.selectors import reps_by_external_id
from scoring.services.jobs import job_create
from scoring.services.preview import PREVIEW, preview_result_row, preview_results
from tenants.benchmark import rep_industry_rank
from tenants.models import Tenant
from tenants.tenant_settings import INDUSTRIES

READ = key_roles(read=KEY_ROLES, write=ADMIN)
# A rep's own scores: keys of every role, and that rep's rep token.
OWN_REP_READ = own_rep_or_key_roles(read=KEY_ROLES, write=ADMIN)


class RankSerializer(serializers.Serializer):
    rank = serializers.IntegerField(
        help_text="1 + the number of reps with a strictly higher SSI (2 decimals)."
    )
    of = serializers.IntegerField(help_text="Active reps ranked.")
    top_percent = serializers.IntegerField(help_text="ceil(100 * rank / of).")


class PillarsSerializer(serializers.Serializer):
    brand = serializers.FloatField()
    find = serializers.FloatField()
    engage = serializers.FloatField()
    relationships = serializers.FloatField()


class AveragesSerializer(PillarsSerializer):
    ssi = serializers.FloatField()


class SsiRanksSerializer(serializers.Serializer):
    tenant = RankSerializer()
    team = RankSerializer(allow_null=True, help_text="Among the rep's team; null without a team.")


class SsiAveragesSerializer(serializers.Serializer):
    tenant = AveragesSerializer()
    team = AveragesSerializer(allow_null=True)


class SsiSerializer(serializers.Serializer):
    rep = serializers.CharField(help_text="The rep's external_id.")
    date = serializers.DateField()
    ssi = serializers.FloatField(help_text="0-100, rounded to 2 decimals.")
    pillars = PillarsSerializer()
    rank = SsiRanksSerializer()
    config_version = serializers.IntegerField()
    averages = SsiAveragesSerializer(help_text="Averages over the tenant's (and the team's) reps that day.")


class RepIndustrySerializer(serializers.Serializer):
    industry = serializers.ChoiceField(choices=INDUSTRIES, help_text="The tenant's industry.")
    rank = serializers.IntegerField(
        min_value=1,
        help_text="1 + the number of reps of the industry's benchmark that day with a strictly higher SSI.",
    )
    top_percent = serializers.IntegerField(min_value=1, max_value=100, help_text="ceil(100 * rank / reps).")
    reps = serializers.IntegerField(min_value=1, help_text="Reps in the industry's benchmark that day.")
    companies = serializers.IntegerField(
        min_value=1, help_text="Companies in the industry's benchmark that day."
    )


INDUSTRY_HELP = (
    "The rep's place in the industry benchmark of that day; null unless the tenant takes part "
    "(`benchmark` and `industry` settings) and took part that day, and the industry is published "
    "(enough companies and reps)."
)


class RepSsiSerializer(SsiSerializer):
    industry = RepIndustrySerializer(allow_null=True, help_text=INDUSTRY_HELP)


class SignalExplanationSerializer(serializers.Serializer):
    pillar = serializers.ChoiceField(choices=PILLARS)
    key = serializers.CharField()
    kind = serializers.ChoiceField(choices=KINDS)
    x = serializers.FloatField(help_text="Raw value; for ratio signals num/den.")
    num = serializers.FloatField(required=False, help_text="Ratio signals only.")
    den = serializers.FloatField(required=False, help_text="Ratio signals only.")
    n = serializers.FloatField(help_text="Normalized value in [0, 1].")
    weight = serializers.FloatField()
    points = serializers.FloatField(help_text="max_points * weight * n / the pillar's weight sum.")


class RecommendationSerializer(serializers.Serializer):
    pillar = serializers.ChoiceField(choices=PILLARS)
    key = serializers.CharField()
    gain = serializers.FloatField(help_text="Points the SSI would gain with this signal at its target.")
    tip = serializers.CharField()


class SsiExplanationSerializer(RepSsiSerializer):
    signals = SignalExplanationSerializer(many=True)
    recommendations = RecommendationSerializer(many=True)


JobOut = inline_serializer(
    "Job",
    {
        "id": serializers.UUIDField(),
        "kind": serializers.ChoiceField(choices=Job.Kind.values),
        "status": serializers.ChoiceField(choices=Job.Status.values),
        "days": serializers.ListField(child=serializers.DateField()),
        "progress": inline_serializer(
            "JobProgress", {"done": serializers.IntegerField(), "total": serializers.IntegerField()}
        ),
        "created_at": serializers.DateTimeField(),
        "started_at": serializers.DateTimeField(allow_null=True),
        "finished_at": serializers.DateTimeField(allow_null=True),
        "duration_seconds": serializers.FloatField(allow_null=True),
        "attempts": serializers.IntegerField(),
        "error": serializers.CharField(allow_blank=True),
        "result": serializers.DictField(),
    },
)
JobRef = inline_serializer(
    "JobRef", {"id": serializers.UUIDField(), "status": serializers.ChoiceField(choices=Job.Status.values)}
)
DATE_PARAM = OpenApiParameter(
    "date", OpenApiTypes.DATE, description="YYYY-MM-DD; default: the latest scored day."
)
PAGE_PARAMETERS = [
    OpenApiParameter("page", {"type": "integer", "minimum": 1}, description="Page number (from 1)."),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1},
        description="Rows per page: default 50; more than 500 is capped to 500.",
    ),
]


class PreviewRowSerializer(serializers.Serializer):
    rep = serializers.CharField(help_text="The rep's external_id.")
    ssi = serializers.FloatField(help_text="Under the draft config, rounded to 2 decimals.")
    pillars = PillarsSerializer()
    rank = serializers.IntegerField(help_text="Among the reps previewed.")
    current_ssi = serializers.FloatField(allow_null=True, help_text="The stored SSI of that day, if any.")


class PreviewPageSerializer(serializers.Serializer):
    date = serializers.DateField()
    reps = serializers.IntegerField(help_text="Reps previewed (as `count`).")
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PreviewRowSerializer(many=True)


def preview_page(
    request: Request, view: Any, *, day: date, rows: Sequence[Any], row_body: Callable[[Any], Any] = dict
) -> Response:
    """A page of a preview's answer (``rows``: dicts, or stored rows made dicts by ``row_body``)."""
    paginator = PagePagination()
    page = paginator.paginate_queryset(rows, request, view=view) or []
    count = paginator.page.paginator.count if paginator.page is not None else 0
    return Response(
        {
            "date": day,
            "reps": count,
            "count": count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": [row_body(row) for row in page],
        }
    )


def job_body(job: Job) -> dict[str, Any]:
    duration = (
        (job.finished_at - job.started_at).total_seconds() if job.finished_at and job.started_at else None
    )
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "days": job.params.get("days", []),
        "progress": {"done": job.progress_done, "total": job.progress_total},
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "duration_seconds": duration,
        "attempts": job.attempts,
        "error": job.error,
        "result": job.result,
    }


def get_rep(external_id: str) -> Rep:
    rep = Rep.objects.filter(external_id=external_id).first()
    if rep is None:
        raise NotFound("No rep with this external_id.")
    return rep


class RecomputeView(APIView):
    permission_classes = [key_roles(read=ADMIN, write=ADMIN)]

    @extend_schema(
        tags=["scores"],
        summary="Recompute a day's scores (asynchronously)",
        description=(
            "Queues a job that recomputes every active rep's snapshot for `date` (default: the tenant's "
            "local yesterday) with the current config. Ranks depend on every rep, so the whole day is "
            "recomputed; `reps`, if given, must name existing reps. Poll `GET /api/v1/jobs/{id}`."
        ),
        request=inline_serializer(
            "RecomputeInput",
            {
                "date": serializers.DateField(
                    required=False, allow_null=True, help_text="Default (absent or null): local yesterday."
                ),
                "reps": serializers.ListField(
                    child=serializers.CharField(),
                    required=False,
                    allow_null=True,
                    help_text="external_ids; default (absent or null): every rep.",
                ),
            },
        ),
        responses={202: inline_serializer("RecomputeAccepted", {"job": JobRef})},
    )
    def post(self, request: Request) -> Response:
        data = body_object(request.data, allowed=("date", "reps"))
        tenant = request.tenant  # type: ignore[attr-defined]
        day = parse_date(data.get("date"), "date") or local_yesterday(tenant.timezone)
        if day > local_today(tenant.timezone):
            raise ValidationFailed(
                "A day that has not started cannot be scored.", code="in_future", attr="date"
            )
        if data.get("reps") is not None:
            reps_by_external_id(external_id_list(data["reps"], attr="reps"), attr="reps")
        job = job_create(kind="recompute", days=[day])
        return Response({"job": {"id": job.id, "status": job.status}}, status=status.HTTP_202_ACCEPTED)


def get_job(job_id: str) -> Job:
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound("No job with this id.")
    return job


class JobView(APIView):
    permission_classes = [READ]

    @extend_schema(
        tags=["scores"],
        summary="A job's status, progress and timings (a recompute, or a preview of many reps)",
        description=(
            "Poll this after `POST /api/v1/scores/recompute` (or a preview of many reps) until `status` is "
            "`succeeded` or `failed`; `progress` counts the days done. Any tenant API key."
        ),
        responses={200: JobOut},
    )
    def get(self, request: Request, job_id: str) -> Response:
        return Response(job_body(get_job(job_id)))


class JobResultsView(APIView):
    # A preview's answer: scores under a draft config, for admins as the preview itself.
    permission_classes = [key_roles(read=ADMIN, write=ADMIN)]
    extra_error_statuses = ["409"]

    @extend_schema(
        tags=["scoring"],
        summary="A preview job's answer, a page at a time",
        description="The scores of `POST /api/v1/scoring-config/preview` when it answered 202 with a job: "
        "in rank order, once the job has `succeeded` (before: 409 `job_not_finished`). Kept for a day "
        "after the job ends. A job that is not a preview has none (404 `no_results`).",
        parameters=PAGE_PARAMETERS,
        responses={200: PreviewPageSerializer},
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = get_job(job_id)
        if job.kind != PREVIEW:
            raise NotFound("This job is not a preview: it has no results.", code="no_results")
        if job.status != Job.Status.SUCCEEDED:
            raise Conflict(f"The job has not succeeded (it is {job.status}).", code="job_not_finished")
        day = date.fromisoformat(job.params["days"][0])
        return preview_page(request, self, day=day, rows=preview_results(job), row_body=preview_result_row)


def with_industry(ssi: dict[str, Any], tenant: Tenant) -> dict[str, Any]:
    """A rep's SSI object with its ``industry`` place that day (one small query, only when the
    tenant takes part in the benchmark)."""
    return {**ssi, "industry": rep_industry_rank(tenant=tenant, day=ssi["date"], ssi=ssi["ssi"])}


class RepSsiView(APIView):
    permission_classes = [OWN_REP_READ]

    @extend_schema(
        tags=["scores"],
        summary="A rep's SSI on a day",
        description=(
            "The snapshot of one local day (the latest without `date`): the SSI, its four pillars, the rep's "
            "rank in the tenant and team, their averages, and the rep's place in its industry's benchmark "
            "(`industry`, or null). 404 `no_snapshot` when the day was not scored yet. A tenant API key, or "
            "that rep's own token."
        ),
        parameters=[DATE_PARAM],
        responses={200: RepSsiSerializer},
    )
    def get(self, request: Request, external_id: str) -> Response:
        found, body = rep_ssi_get(
            external_id=external_id, day=parse_date(request.query_params.get("date"), "date")
        )
        if not found:
            raise NotFound("No rep with this external_id.")
        if body is None:
            raise NotFound("No scores for this rep on that day.", code="no_snapshot")
        return Response(with_industry(body, request.tenant))  # type: ignore[attr-defined]


class RepSsiHistoryView(APIView):
    permission_classes = [OWN_REP_READ]

    @extend_schema(
        tags=["scores"],
        summary="A rep's SSI day by day (at most 400 days)",
        description=(
            "The snapshots between `from` and `to` (local days), oldest first; days without a snapshot are "
            "left out. A tenant API key, or that rep's own token."
        ),
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (inclusive)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (inclusive)."),
        ],
        responses={200: SsiSerializer(many=True)},
    )
    def get(self, request: Request, external_id: str) -> Response:
        start = parse_date(request.query_params.get("from"), "from")
        end = parse_date(request.query_params.get("to"), "to")
        if start and end and start > end:
            raise ValidationFailed("'from' is after 'to'.", code="invalid_range", attr="from")
        return Response(rep_history(get_rep(external_id), start, end))


class RepSsiExplainView(APIView):
    permission_classes = [OWN_REP_READ]

    @extend_schema(
        tags=["scores"],
        summary="Why a rep has this SSI: every signal, and the three best recommendations",
        description=(
            "Every signal of the day's snapshot with its raw value, normalized value, weight and points, and "
            "the signals that would gain the most points with their tips. A tenant API key, or that rep's own"
            " token."
        ),
        parameters=[DATE_PARAM],
        responses={200: SsiExplanationSerializer},
    )
    def get(self, request: Request, external_id: str) -> Response:
        body = rep_explain(
            get_rep(external_id),
            parse_date(request.query_params.get("date"), "date"),
            request.tenant.timezone,  # type: ignore[attr-defined]
        )
        if body is None:
            raise NotFound("No scores for this rep on that day.", code="no_snapshot")
        return Response(with_industry(body, request.tenant))  # type: ignore[attr-defined]


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return data if isinstance(data, bytes) else str(data).encode()


CSV_COLUMNS = [
    "rep",
    "date",
    "ssi",
    *PILLARS,
    "tenant_rank",
    "tenant_of",
    "tenant_top_percent",
    "team",
    "team_rank",
    "team_of",
    "team_top_percent",
    "config_version",
]


def _csv_row(s: ScoreSnapshot) -> list[Any]:
    """One rep's row of the day's CSV (``CSV_COLUMNS``); its ``external_id`` is annotated."""
    return [
        s.external_id,  # type: ignore[attr-defined]
        s.day,
        f"{round2(s.ssi):.2f}",
        *(f"{round2(getattr(s, p)):.2f}" for p in PILLARS),
        s.tenant_rank,
        s.tenant_of,
        s.tenant_top_percent,
        s.team_id or "",
        s.team_rank or "",
        s.team_of or "",
        s.team_top_percent or "",
        s.config_version,
    ]


class ScoresView(APIView):
    permission_classes = [READ]
    extra_error_statuses = ["400"]
    renderer_classes = [renderers.JSONRenderer, CSVRenderer]

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are JSON even when CSV was asked for.
        self.request.accepted_renderer = renderers.JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return super().handle_exception(exc)

    @extend_schema(
        tags=["scores"],
        summary="Every rep's snapshot on a day, by rank (JSON pages, or the whole day as CSV)",
        description="`Accept: text/csv` (or `?format=csv`) answers the whole day as CSV.",
        parameters=[DATE_PARAM, *PAGE_PARAMETERS],
        responses={
            (200, "application/json"): inline_serializer(
                "PaginatedSsiList",
                {
                    "count": serializers.IntegerField(),
                    "next": serializers.URLField(allow_null=True),
                    "previous": serializers.URLField(allow_null=True),
                    "results": SsiSerializer(many=True),
                },
            ),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV with a header row."),
        },
    )
    def get(self, request: Request) -> Response | HttpResponse:
        day = parse_date(request.query_params.get("date"), "date")
        if day is None:
            day = ScoredDay.objects.order_by("-day").values_list("day", flat=True).first()
            if day is None:
                raise NotFound("No day has been scored yet.", code="no_snapshot")
        queryset = (
            ScoreSnapshot.objects.filter(day=day)
            .annotate(external_id=F("rep__external_id"))
            .order_by("tenant_rank", "rep_id")
        )
        averages = averages_by_day([day]).get(day)
        if request.accepted_renderer.format == "csv":
            return csv_response(
                header=CSV_COLUMNS,
                rows=(_csv_row(s) for s in queryset.iterator(chunk_size=2000)),
                filename=f"scores-{day}.csv",
            )
        paginator = PagePagination()
        page = paginator.paginate_queryset(queryset, request, view=self) or []
        return paginator.get_paginated_response([snapshot_body(s, s.external_id, averages) for s in page])
