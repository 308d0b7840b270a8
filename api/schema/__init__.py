"""The OpenAPI document: drf-spectacular's AutoSchema (api/schema/auto.py), its postprocessing
hooks (api/schema/hooks.py) and the shapes of hand-checked bodies (api/schema/bodies.py).

Settings name ``api.schema.AutoSchema`` and the hooks by these paths.
"""

from api.schema.auto import AutoSchema, BearerAuthenticationScheme
from api.schema.hooks import enum_names, strict_request_bodies, tenant_header

__all__ = ["AutoSchema", "BearerAuthenticationScheme", "enum_names", "strict_request_bodies", "tenant_header"]
