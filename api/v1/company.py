"""The company's and each team's SSI of a day, and their history (docs/scoring.md#company-and-team-ssi)."""

from __future__ import annotations

from datetime import date

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import ADMIN, KEY_ROLES, any_rep_or_key_roles, own_team_or_key_roles
from api.v1.serializers import parse_date
from core.errors import NotFound, ValidationFailed
from scoring.models import Team
from scoring.read import ssi_summary_body, ssi_summary_get, ssi_summary_history
from tenants.benchmark import company_industry_rank
from tenants.tenant_settings import INDUSTRIES

# Keys of every role; any rep token of the tenant for the company, its own team's for a team.
COMPANY_READ = any_rep_or_key_roles(read=KEY_ROLES, write=ADMIN)
TEAM_READ = own_team_or_key_roles(read=KEY_ROLES, write=ADMIN)
HISTORY_LIMIT = 400

DATE_PARAM = OpenApiParameter(
    "date", OpenApiTypes.DATE, description="YYYY-MM-DD (a local day); default: the latest scored day."
)
RANGE_PARAMS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (inclusive); default: no bound."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (inclusive); default: no bound."),
]
WHO = (
    "Over the active reps with a snapshot that day, each rep's SSI and pillars as the API shows them "
    "(rounded to 2 decimals); `mean`, `median` and the pillars' means are rounded to 2 decimals, half "
    "away from zero."
)


class SsiPillarMeansSerializer(serializers.Serializer):
    brand = serializers.FloatField(help_text="Mean of the reps' brand points, rounded to 2 decimals.")
    find = serializers.FloatField(help_text="Mean of the reps' find points, rounded to 2 decimals.")
    engage = serializers.FloatField(help_text="Mean of the reps' engage points, rounded to 2 decimals.")
    relationships = serializers.FloatField(
        help_text="Mean of the reps' relationships points, rounded to 2 decimals."
    )


class SsiBandsSerializer(serializers.Serializer):
    good = serializers.IntegerField(min_value=0, help_text="Reps with SSI >= 70.")
    okay = serializers.IntegerField(min_value=0, help_text="Reps with 40 <= SSI < 70.")
    poor = serializers.IntegerField(min_value=0, help_text="Reps with SSI < 40.")


class CompanySsiSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The local day.")
    reps = serializers.IntegerField(min_value=1, help_text="Active reps with a snapshot that day.")
    mean = serializers.FloatField(help_text="Mean SSI, rounded to 2 decimals.")
    median = serializers.FloatField(
        help_text="Median SSI (the mean of the two middle values for an even count), rounded to 2 decimals."
    )
    pillars = SsiPillarMeansSerializer()
    bands = SsiBandsSerializer()


class CompanyIndustrySerializer(serializers.Serializer):
    industry = serializers.ChoiceField(choices=INDUSTRIES, help_text="The tenant's industry.")
    rank = serializers.IntegerField(
        min_value=1, help_text="1 + the number of the industry's companies with a strictly higher mean."
    )
    top_percent = serializers.IntegerField(
        min_value=1, max_value=100, help_text="ceil(100 * rank / companies)."
    )
    companies = serializers.IntegerField(min_value=1, help_text="Companies in the industry's benchmark.")
    reps = serializers.IntegerField(min_value=1, help_text="Reps in the industry's benchmark.")
    median_company_mean = serializers.FloatField(
        help_text="The median of the companies' means (the mean of the two middle ones for an even "
        "count), rounded to 2 decimals."
    )


class CompanySsiDaySerializer(CompanySsiSerializer):
    industry = CompanyIndustrySerializer(
        allow_null=True,
        help_text="The company's place in its industry's benchmark that day, by mean SSI; null unless the "
        "tenant takes part (`benchmark` and `industry` settings) and took part that day, and the industry "
        "is published (enough companies and reps).",
    )


class TeamSsiSerializer(CompanySsiSerializer):
    team = serializers.IntegerField(help_text="The team's id.")


def _range(request: Request) -> tuple[date | None, date | None]:
    start = parse_date(request.query_params.get("from"), "from")
    end = parse_date(request.query_params.get("to"), "to")
    if start and end and start > end:
        raise ValidationFailed("'from' is after 'to'.", code="invalid_range", attr="from")
    return start, end


def _summary(team_id: int | None, request: Request) -> Response:
    day = parse_date(request.query_params.get("date"), "date")
    summary = ssi_summary_get(team_id=team_id, day=day)
    if summary is None:
        detail = "No rep had a snapshot on that day." if day else "No day has been scored yet."
        raise NotFound(detail, code="not_scored", attr="date" if day else None)
    body = ssi_summary_body(summary)
    if team_id is None:
        tenant = request.tenant  # type: ignore[attr-defined]
        body["industry"] = company_industry_rank(tenant=tenant, day=summary.day)
    return Response(body)


def _team(team_id: int) -> int:
    if not Team.objects.filter(pk=team_id).exists():
        raise NotFound("No team with this id.")
    return team_id


class CompanySsiView(APIView):
    permission_classes = [COMPANY_READ]
    extra_error_statuses = ["400"]

    @extend_schema(
        tags=["scores"],
        summary="The company's SSI on a day",
        description=(
            "The reps' count, mean and median SSI, the pillars' means and the reps in each band on one "
            f"local day (the latest scored day without `date`), and the company's place in its industry's "
            f"benchmark (`industry`, or null). {WHO} 404 `not_scored` when no rep has a "
            "snapshot that day. Any tenant API key, or any rep token of the tenant."
        ),
        parameters=[DATE_PARAM],
        responses={200: CompanySsiDaySerializer},
    )
    def get(self, request: Request) -> Response:
        return _summary(None, request)


class CompanySsiHistoryView(APIView):
    permission_classes = [COMPANY_READ]
    extra_error_statuses = ["400"]

    @extend_schema(
        tags=["scores"],
        summary=f"The company's SSI day by day (at most {HISTORY_LIMIT} days)",
        description=(
            f"One row per scored day between `from` and `to` (local days, inclusive), oldest first, as "
            f"`GET /api/v1/company/ssi` answers it; the first {HISTORY_LIMIT} such days. 400 "
            "`invalid_range` when `from` is after `to`. Any tenant API key, or any rep token of the tenant."
        ),
        parameters=RANGE_PARAMS,
        responses={200: CompanySsiSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        start, end = _range(request)
        rows = ssi_summary_history(team_id=None, start=start, end=end, limit=HISTORY_LIMIT)
        return Response([ssi_summary_body(row) for row in rows])


class TeamSsiView(APIView):
    permission_classes = [TEAM_READ]
    extra_error_statuses = ["400"]

    @extend_schema(
        tags=["scores"],
        summary="A team's SSI on a day",
        description=(
            "As `GET /api/v1/company/ssi`, over the team's reps (the team their snapshot of the day names), "
            f"on one local day (the team's latest scored day without `date`). {WHO} 404 `not_scored` when "
            "none of them has a snapshot that day. Any tenant API key, or the token of a rep of this team."
        ),
        parameters=[DATE_PARAM],
        responses={200: TeamSsiSerializer},
    )
    def get(self, request: Request, id: int) -> Response:
        return _summary(_team(id), request)


class TeamSsiHistoryView(APIView):
    permission_classes = [TEAM_READ]
    extra_error_statuses = ["400"]

    @extend_schema(
        tags=["scores"],
        summary=f"A team's SSI day by day (at most {HISTORY_LIMIT} days)",
        description=(
            f"One row per day between `from` and `to` (local days, inclusive) on which a rep of the team "
            f"has a snapshot, oldest first; the first {HISTORY_LIMIT} such days. 400 `invalid_range` when "
            "`from` is after `to`. Any tenant API key, or the token of a rep of this team."
        ),
        parameters=RANGE_PARAMS,
        responses={200: TeamSsiSerializer(many=True)},
    )
    def get(self, request: Request, id: int) -> Response:
        start, end = _range(request)
        rows = ssi_summary_history(team_id=_team(id), start=start, end=end, limit=HISTORY_LIMIT)
        return Response([ssi_summary_body(row) for row in rows])
