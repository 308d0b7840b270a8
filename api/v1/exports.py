"""Exports of a tenant's data (docs/api.md#exporting-a-tenants-data): start one, follow it,
and download its archive through a link that expires."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.actors import actor_of
from api.pagination import PagePagination
from api.permissions import ADMIN, key_roles
from api.v1.scores import PAGE_PARAMETERS
from api.v1.serializers import body_object
from core.errors import NotFound
from provisioning.exports import TABLES, LinkRefused, export_file, export_start, export_view, exports_list
from scoring.models import Job

ADMIN_ONLY = key_roles(read=ADMIN, write=ADMIN)
EXPORT_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The export's id.")


class ExportProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(help_text="Rows written so far.")
    total = serializers.IntegerField(help_text="Rows to write (counted when the export starts).")


class ExportSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The export's id (also its job's: `GET /api/v1/jobs/{id}`).")
    status = serializers.ChoiceField(choices=Job.Status.values)
    progress = ExportProgressSerializer()
    tables = serializers.DictField(
        child=serializers.IntegerField(),
        help_text=f"Rows per table once done: {', '.join(name for name, _ in TABLES)}.",
    )
    bytes = serializers.IntegerField(allow_null=True, help_text="The archive's size once done.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When the download link and the archive expire (`SSI_EXPORT_LINK_HOURS`)."
    )
    download_url = serializers.URLField(
        allow_null=True,
        help_text="The archive (a `.tar` of one `<table>.jsonl.gz` per table and `manifest.json`), "
        "downloadable without a key until `expires_at`: keep it as secret as a key. Null until done, "
        "and after it expired.",
    )
    error = serializers.CharField(help_text="Why it failed; empty otherwise.")


class ExportPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ExportSerializer(many=True)


def export_body(request: Request, job: Job) -> dict[str, Any]:
    view = export_view(job)
    return {
        "id": job.pk,
        "status": job.status,
        "progress": {"done": job.progress_done, "total": job.progress_total},
        "tables": view.tables,
        "bytes": (job.result or {}).get("bytes"),
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "expires_at": view.expires_at,
        "download_url": request.build_absolute_uri(view.download_path) if view.download_path else None,
        "error": job.error,
    }


class ExportsView(APIView):
    permission_classes = [ADMIN_ONLY]

    @extend_schema(
        tags=["exports"],
        operation_id="exports_list",
        summary="The tenant's exports, the latest first",
        description="Every export started, with its progress and, while it lasts, its download link. "
        "Admin keys.",
        parameters=PAGE_PARAMETERS,
        responses={200: ExportPageSerializer},
    )
    def get(self, request: Request) -> Response:
        paginator = PagePagination()
        page: list[Job] = paginator.paginate_queryset(exports_list(), request, view=self) or []
        return paginator.get_paginated_response([export_body(request, job) for job in page])

    @extend_schema(
        tags=["exports"],
        summary="Export the tenant's data (asynchronously)",
        description=(
            "Starts a job that writes every table of the tenant (reps, teams, events, snapshots, awards, "
            "goals, scoring config versions, audit log) as gzip'd JSON Lines, one file per table, with a "
            "`manifest.json` of rows and SHA-256 per file, in one `.tar`. Follow it with "
            "`GET /api/v1/exports/{id}` until `status` is `succeeded`: `download_url` then opens the archive "
            "until `expires_at`. Audited. Admin keys."
        ),
        request=OpenApiTypes.OBJECT,  # nothing, or {}: the hook says no fields (api/schema/hooks.py)
        responses={202: ExportSerializer},
    )
    def post(self, request: Request) -> Response:
        body_object(request.data, allowed=())  # nothing, or {}; JSON null is not an object
        job = export_start(actor=actor_of(request))
        return Response(export_body(request, job), status=status.HTTP_202_ACCEPTED)


class ExportView(APIView):
    permission_classes = [ADMIN_ONLY]

    @extend_schema(
        tags=["exports"],
        summary="An export: its progress and, once done, its download link",
        description="Poll it after `POST /api/v1/exports` until `status` is `succeeded` (or `failed`). "
        "Admin keys.",
        parameters=[EXPORT_ID],
        responses={200: ExportSerializer},
    )
    def get(self, request: Request, id: str) -> Response:
        job = exports_list().filter(pk=id).first()
        if job is None:
            raise NotFound("No export with this id.")
        return Response(export_body(request, job))


def export_download(request: HttpRequest, token: str, file: str) -> HttpResponse | FileResponse:
    """The archive a signed link names (no key: the link is the credential, until it expires)."""
    if request.method not in ("GET", "HEAD"):
        return _refused(405, "method_not_allowed", "GET only.")
    try:
        path = export_file(token, file)
    except LinkRefused as refused:
        if refused.code == "link_expired":
            return _refused(410, "link_expired", "This download link has expired: start a new export.")
        return _refused(403, "bad_link", "This is not a download link of this tenant.")
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=file, content_type="application/x-tar"
    )
    response["Cache-Control"] = "no-store"
    return response


def _refused(code: int, error: str, detail: str) -> JsonResponse:
    body = {"type": "client_error", "errors": [{"code": error, "detail": detail, "attr": None}]}
    return JsonResponse(body, status=code)
