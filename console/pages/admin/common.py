"""What the admin pages share: redirects with a notice, service errors next to their field,
and the cursor pagination the API uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from django import forms
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponseRedirect
from rest_framework.exceptions import APIException
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request

from core.errors import DomainError


def template(name: str) -> str:
    """An admin page's template: ``console/templates/console/admin/<name>.html``."""
    return f"console/admin/{name}.html"


class SeeOther(HttpResponseRedirect):
    """303: after a POST, the browser GETs the page it is sent to."""

    status_code = 303


def done(path: str, notice: str) -> SeeOther:
    """Back to ``path`` with the code of a notice the page knows (``?done=<notice>``): a page
    shows only its own fixed texts, never one taken from the URL."""
    return SeeOther(f"{path}?{urlencode({'done': notice})}")


def notice_of(request: HttpRequest, notices: Mapping[str, str]) -> str:
    return notices.get(request.GET.get("done", ""), "")


def field_errors(form: forms.Form, error: DomainError, fields: tuple[str, ...]) -> None:
    """Put a service's error next to the field it names (``events.2`` is ``events``); one that
    names no field of the form goes on top of it."""
    name = (error.attr or "").split(".")[0]
    form.add_error(name if name in fields else None, error.detail)


def errors_of(form: forms.Form) -> dict[str, str]:
    """Each field's first error message, and ``form`` for the form's own."""
    return {
        ("form" if name == "__all__" else name): str(messages[0]) for name, messages in form.errors.items()
    }


def cursor_page(
    request: HttpRequest, queryset: QuerySet[Any], paginator: CursorPagination
) -> tuple[list[Any], str, str]:
    """One page of ``queryset`` with the API's opaque cursors (``?cursor=``): the rows and the
    links (path and query, or empty) to the newer and the older page."""
    try:
        rows = list(paginator.paginate_queryset(queryset, Request(request)) or [])
    except APIException as exc:  # a cursor or page size that is not one of ours (the API's 400/404)
        raise Http404("No such page of this list") from exc
    return rows, _relative(paginator.get_previous_link()), _relative(paginator.get_next_link())


def _relative(link: str | None) -> str:
    if not link:
        return ""
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
