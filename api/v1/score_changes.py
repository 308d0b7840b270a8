"""``GET /api/v1/reps/{id}/ssi/changes``: why a rep's SSI moved between two days
(docs/scoring.md#why-a-score-moved)."""

from __future__ import annotations

from datetime import date
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.v1.scores import OWN_REP_READ, PillarsSerializer, get_rep
from api.v1.serializers import parse_date
from core.errors import NotFound, ValidationFailed
from scoring.changes import NotScored, rep_changes
from scoring.engine.config import KINDS


@extend_schema_field(
    # A nullable reference as OpenAPI 3.0 validators take it: `nullable` needs a `type` beside it.
    {"allOf": [{"$ref": "#/components/schemas/SignalExplanation"}], "type": "object", "nullable": True}
)
class NullableSignalField(serializers.JSONField):
    """A signal as `/ssi/explain` gives it (``SignalExplanationSerializer``), or null."""


ChangeSide = inline_serializer(
    "SsiChangeSide",
    {
        "date": serializers.DateField(help_text="The local day."),
        "ssi": serializers.FloatField(help_text="The snapshot's SSI, rounded to 2 decimals."),
        "pillars": PillarsSerializer(help_text="The snapshot's pillar points, rounded to 2 decimals."),
        "config_version": serializers.IntegerField(
            help_text="The scoring config version it was scored with."
        ),
    },
)
SignalChange = inline_serializer(
    "SsiSignalChange",
    {
        "key": serializers.CharField(help_text="The signal's key."),
        "kind": serializers.ChoiceField(
            choices=KINDS, help_text="Its kind on `to` (on `from` if it is gone)."
        ),
        "from": NullableSignalField(
            help_text="The signal on the first day, as `/ssi/explain` gives it; null when that day's "
            "config had no such signal in this pillar.",
        ),
        "to": NullableSignalField(
            help_text="The signal on the second day, as `/ssi/explain` gives it; null when that day's "
            "config has no such signal in this pillar.",
        ),
        "delta": serializers.FloatField(
            help_text="`to.points - from.points` (a missing side counts 0), exact to the cent."
        ),
    },
)
PillarChange = inline_serializer(
    "SsiPillarChange",
    {
        "from": serializers.FloatField(help_text="Points on the first day, rounded to 2 decimals."),
        "to": serializers.FloatField(help_text="Points on the second day, rounded to 2 decimals."),
        "delta": serializers.FloatField(
            help_text="The pillar's share of the SSI's `delta`: `to - from`, except that a cent may move "
            "between pillars so that the four add up to the SSI's `delta` exactly (docs/scoring.md). The "
            "signals' deltas add up to it within 0.01 per signal."
        ),
        "signals": serializers.ListField(child=SignalChange, help_text="The pillar's signals on either day."),
    },
)
PillarChanges = inline_serializer(
    "SsiPillarChanges", {p: PillarChange for p in ("brand", "find", "engage", "relationships")}
)
SsiChanges = inline_serializer(
    "SsiChanges",
    {
        "rep": serializers.CharField(help_text="The rep's external_id."),
        "from": ChangeSide,
        "to": ChangeSide,
        "delta": serializers.FloatField(help_text="`to.ssi - from.ssi`, of the rounded values."),
        "config_changed": serializers.BooleanField(
            help_text="Whether the two days were scored with different config versions (`config_version` "
            "of `from` and `to`)."
        ),
        "pillars": PillarChanges,
    },
)


def _signal(
    pillar: str, key: str, kind: str, x: float, n: float, weight: float, points: float
) -> dict[str, Any]:
    """One signal of the example, as /ssi/explain gives it."""
    return {"pillar": pillar, "key": key, "kind": kind, "x": x, "n": n, "weight": weight, "points": points}


EXAMPLE = {
    "rep": "u-1001",
    "from": {
        "date": "2026-03-09",
        "ssi": 9.58,
        "pillars": {"brand": 9.38, "find": 0.21, "engage": 0.0, "relationships": 0.0},
        "config_version": 1,
    },
    "to": {
        "date": "2026-03-10",
        "ssi": 10.83,
        "pillars": {"brand": 10.42, "find": 0.42, "engage": 0.0, "relationships": 0.0},
        "config_version": 1,
    },
    "delta": 1.25,
    "config_changed": False,
    "pillars": {
        "brand": {
            "from": 9.38,
            "to": 10.42,
            "delta": 1.04,
            "signals": [
                {
                    "key": "profile_completeness",
                    "kind": "state",
                    "from": _signal("brand", "profile_completeness", "state", 100.0, 1.0, 3.0, 9.38),
                    "to": _signal("brand", "profile_completeness", "state", 100.0, 1.0, 3.0, 9.38),
                    "delta": 0.0,
                },
                {
                    "key": "posts",
                    "kind": "count",
                    "from": _signal("brand", "posts", "count", 0.0, 0.0, 2.0, 0.0),
                    "to": _signal("brand", "posts", "count", 2.0, 0.1667, 2.0, 1.04),
                    "delta": 1.04,
                },
            ],
        },
        "find": {
            "from": 0.21,
            "to": 0.42,
            "delta": 0.21,
            "signals": [
                {
                    "key": "active_days",
                    "kind": "active_days",
                    "from": _signal("find", "active_days", "active_days", 1.0, 0.0222, 3.0, 0.21),
                    "to": _signal("find", "active_days", "active_days", 2.0, 0.0444, 3.0, 0.42),
                    "delta": 0.21,
                },
            ],
        },
        "engage": {"from": 0.0, "to": 0.0, "delta": 0.0, "signals": []},
        "relationships": {"from": 0.0, "to": 0.0, "delta": 0.0, "signals": []},
    },
}


class RepSsiChangesView(APIView):
    permission_classes = [OWN_REP_READ]
    extra_error_statuses = ["400"]

    @extend_schema(
        tags=["scores"],
        summary="Why a rep's SSI moved between two days",
        description=(
            "The rep's snapshots of `from` and `to` (local days, `from` before `to`), the SSI's `delta`, and "
            "for each pillar its points on both days, its `delta`, and every signal of either day's config "
            "as `/ssi/explain` gives it on each day with the difference of its points. Deltas are "
            "differences of the figures shown (2 decimals); the pillars' deltas add up to the SSI's exactly "
            "and each pillar's signals to the pillar's within 0.01 per signal. `config_changed` says "
            "whether the days were scored under different config versions. 400 `invalid_range` when "
            "`from` is not before `to`; 404 `not_scored` when the rep has no snapshot on one of the days "
            "(named in `attr` and the detail). A tenant API key, or that rep's own token. The example's "
            "signal lists are shortened."
        ),
        parameters=[
            OpenApiParameter(
                "from", OpenApiTypes.DATE, required=True, description="The earlier day, YYYY-MM-DD."
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, required=True, description="The later day, YYYY-MM-DD."
            ),
        ],
        responses={200: SsiChanges},
        examples=[OpenApiExample("Two more posts", response_only=True, value=EXAMPLE)],
    )
    def get(self, request: Request, external_id: str) -> Response:
        start, end = _required_date(request, "from"), _required_date(request, "to")
        if start >= end:
            raise ValidationFailed("'from' must be a day before 'to'.", code="invalid_range", attr="from")
        rep = get_rep(external_id)
        body = rep_changes(rep, start, end, request.tenant.timezone)  # type: ignore[attr-defined]
        if isinstance(body, NotScored):
            raise NotFound(
                f"No scores for this rep on {body.day.isoformat()}.", code="not_scored", attr=body.attr
            )
        return Response(body)


def _required_date(request: Request, name: str) -> date:
    day = parse_date(request.query_params.get(name), name)
    if day is None:
        raise ValidationFailed("This query parameter is required (YYYY-MM-DD).", code="required", attr=name)
    return day
