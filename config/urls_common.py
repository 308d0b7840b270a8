"""Routes served on every host: health probes and the API documents."""

from __future__ import annotations

from django.urls import path

from api.docs import DocsView, SchemaView
from api.v1.health import healthz, readyz

common_patterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("api/v1/schema/", SchemaView.as_view(urlconf="config.urls_schema"), name="schema"),
    # The split view serves its script from a URL, not inline: the page's CSP needs no 'unsafe-inline'.
    path("api/v1/docs/", DocsView.as_view(url_name="schema"), name="docs"),
]
