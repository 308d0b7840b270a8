"""v1 routes of a tenant host."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from api.v1.activities import ActivityViewSet
from api.v1.audit import AuditLogViewSet
from api.v1.badges import AwardViewSet, BadgeViewSet, RepBadgesView
from api.v1.challenges import ChallengeViewSet
from api.v1.company import CompanySsiHistoryView, CompanySsiView, TeamSsiHistoryView, TeamSsiView
from api.v1.contest_series import ContestSeriesViewSet
from api.v1.contests import ContestViewSet
from api.v1.exports import ExportsView, ExportView
from api.v1.fair_play import FairPlayFlagsView
from api.v1.goals import GoalViewSet
from api.v1.keys import ApiKeyViewSet
from api.v1.leaderboards import LeaderboardView
from api.v1.members import MemberViewSet
from api.v1.rep_tokens import RepTokensRevokeView, RepTokenView
from api.v1.reps import RepViewSet
from api.v1.score_changes import RepSsiChangesView
from api.v1.scores import (
    JobResultsView,
    JobView,
    RecomputeView,
    RepSsiExplainView,
    RepSsiHistoryView,
    RepSsiView,
    ScoresView,
)
from api.v1.scoring_config import EventTypesViewSet, ScoringConfigViewSet, SettingsViewSet
from api.v1.teams import TeamViewSet
from api.v1.webhooks import WebhookViewSet

router = SimpleRouter(trailing_slash=False)
router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register("teams", TeamViewSet, basename="team")
router.register("reps", RepViewSet, basename="rep")
router.register("activities", ActivityViewSet, basename="activity")
router.register("badges", BadgeViewSet, basename="badge")
router.register("awards", AwardViewSet, basename="award")
router.register("goals", GoalViewSet, basename="goal")
router.register("contests", ContestViewSet, basename="contest")
router.register("contest-series", ContestSeriesViewSet, basename="contest-series")
router.register("challenges", ChallengeViewSet, basename="challenge")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("audit-log", AuditLogViewSet, basename="audit-log")
router.register("members", MemberViewSet, basename="member")

REP = "reps/<str:external_id>"
config = ScoringConfigViewSet

urlpatterns = [
    path("scoring-config", config.as_view({"get": "retrieve", "put": "update"}), name="scoring-config"),
    path("scoring-config/versions", config.as_view({"get": "versions"}), name="scoring-config-versions"),
    path("scoring-config/preview", config.as_view({"post": "preview"}), name="scoring-config-preview"),
    path("event-types", EventTypesViewSet.as_view({"get": "list"}), name="event-types"),
    path(
        "settings", SettingsViewSet.as_view({"get": "retrieve", "patch": "partial_update"}), name="settings"
    ),
    path("scores/recompute", RecomputeView.as_view(), name="scores-recompute"),
    path("scores", ScoresView.as_view(), name="scores"),
    path("exports", ExportsView.as_view(), name="exports"),
    path("exports/<uuid:id>", ExportView.as_view(), name="export"),
    path("jobs/<uuid:job_id>", JobView.as_view(), name="job"),
    path("jobs/<uuid:job_id>/results", JobResultsView.as_view(), name="job-results"),
    path("rep-tokens", RepTokenView.as_view(), name="rep-tokens"),
    path("rep-tokens/revoke", RepTokensRevokeView.as_view(), name="rep-tokens-revoke"),
    path("fair-play/flags", FairPlayFlagsView.as_view(), name="fair-play-flags"),
    path("leaderboards/<str:metric>", LeaderboardView.as_view(), name="leaderboard"),
    path("company/ssi", CompanySsiView.as_view(), name="company-ssi"),
    path("company/ssi/history", CompanySsiHistoryView.as_view(), name="company-ssi-history"),
    path("teams/<int:id>/ssi", TeamSsiView.as_view(), name="team-ssi"),
    path("teams/<int:id>/ssi/history", TeamSsiHistoryView.as_view(), name="team-ssi-history"),
    path(f"{REP}/ssi", RepSsiView.as_view(), name="rep-ssi"),
    path(f"{REP}/badges", RepBadgesView.as_view(), name="rep-badges"),
    path(f"{REP}/ssi/history", RepSsiHistoryView.as_view(), name="rep-ssi-history"),
    path(f"{REP}/ssi/explain", RepSsiExplainView.as_view(), name="rep-ssi-explain"),
    path(f"{REP}/ssi/changes", RepSsiChangesView.as_view(), name="rep-ssi-changes"),
    *router.urls,
]
