"""Liveness (``/healthz``) and readiness (``/readyz``) probes: no auth, every host."""

from __future__ import annotations

import logging

from celery import current_app as celery_app
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2.0

_health = inline_serializer("Health", {"status": serializers.ChoiceField(choices=["ok"])})
_ready = inline_serializer(
    "Readiness",
    {
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "checks": inline_serializer(
            "ReadinessChecks",
            {
                "database": serializers.ChoiceField(choices=["ok", "unavailable"]),
                "broker": serializers.ChoiceField(choices=["ok", "unavailable"]),
            },
        ),
    },
)


@extend_schema(
    tags=["health"],
    summary="Liveness: the process answers",
    description=(
        "200 while the process serves requests; it checks nothing else. No authentication, on every host."
    ),
    responses={200: _health},
)
@api_view(["GET", "HEAD"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def healthz(request: Request) -> Response:
    return Response({"status": "ok"})


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # any failure means "not ready"
        logger.warning("readiness: database unavailable", exc_info=True)
        return False


def broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS
            )
        return True
    except Exception:  # any failure means "not ready"
        logger.warning("readiness: broker unavailable", exc_info=True)
        return False


@extend_schema(
    tags=["health"],
    summary="Readiness: the database and the broker are reachable",
    description=(
        "200 when the database and the Celery broker answer, 503 otherwise, with each check's result. No "
        "authentication, on every host."
    ),
    responses={200: _ready, 503: _ready},
)
@api_view(["GET", "HEAD"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def readyz(request: Request) -> Response:
    checks = {
        "database": "ok" if database_ok() else "unavailable",
        "broker": "ok" if broker_ok() else "unavailable",
    }
    ready = all(value == "ok" for value in checks.values())
    return Response(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
