"""Bearer authentication for every kind of token.

The tenant was chosen by ``TenantRoutingMiddleware`` before this runs, and
the connection is on its schema. On the platform host only platform keys are
valid; on a tenant host only that tenant's keys and rep tokens (both found in
its own schema). Any other token is a 401 with the same message, so a caller
learns nothing about which part failed; the one exception is a genuine rep
token past its ``expires_at`` (``token_expired``).

A valid key or rep token of a suspended tenant is a 403 ``tenant_suspended``: only a caller
holding a real credential learns that the tenant is suspended (anything else stays a 401).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.request import Request

from access.models import ApiKey, RepToken
from access.rep_tokens import MAX_TOKEN_LENGTH, TOKEN_RE, rep_token_check
from core.db import connection, model_columns, model_from_row, prepared_cursor, statements_execute
from core.tokens import PLATFORM, REP_TOKEN, TENANT_KEY, token_kind, token_matches, token_prefix
from tenants.models import PlatformKey, Tenant

TENANT_SUSPENDED = "tenant_suspended"

# last_used_at is written at most this often per key, to keep reads read-only.
LAST_USED_GRANULARITY = timedelta(seconds=60)
# ...and in the same round trip as this, which commits it without waiting for its WAL flush:
# a database crash can lose the last fraction of a second of these timestamps, nothing else
# (docs/operations.md#the-nightly-batch). The statements run as one implicit transaction.
_COMMIT_ASYNC = "SELECT set_config('synchronous_commit', 'off', true); "


@dataclass(frozen=True)
class Principal:
    """Who is calling. DRF puts it in ``request.user``."""

    kind: str  # "platform" | "key" | "rep"
    key_id: int  # the PlatformKey's, ApiKey's or RepToken's id
    role: str | None = None
    rep_id: int | None = None  # rep tokens: whose data they may read
    rep_external_id: str | None = None

    is_authenticated = True
    is_anonymous = False

    @property
    def pk(self) -> str:
        return f"{self.kind}:{self.key_id}"


class BearerAuthentication(BaseAuthentication):
    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="ssi"'

    def authenticate(self, request: Request) -> tuple[Principal, object] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            raise AuthenticationFailed(
                "Use the header 'Authorization: Bearer <token>'.", code="invalid_header"
            )
        if len(token) > MAX_TOKEN_LENGTH or not TOKEN_RE.match(token):
            raise self._invalid()

        tenant = getattr(request._request, "tenant", None)
        kind = token_kind(token)
        if tenant is None:
            if kind != PLATFORM:
                raise self._invalid()
            platform_key = self._find(PlatformKey, token)
            return Principal(kind="platform", key_id=platform_key.pk), platform_key
        if kind == TENANT_KEY:
            api_key = self._find(ApiKey, token)
            assert isinstance(api_key, ApiKey)
            self._refuse_if_suspended(tenant)
            return Principal(kind="key", key_id=api_key.pk, role=api_key.role), api_key
        if kind == REP_TOKEN:
            found = self._rep_token(token)
            self._refuse_if_suspended(tenant)
            return found
        raise self._invalid()

    @staticmethod
    def _refuse_if_suspended(tenant: Tenant) -> None:
        if tenant.suspended_at is not None:
            raise PermissionDenied(
                "This tenant is suspended: its keys and tokens are refused until the platform restores it.",
                code=TENANT_SUSPENDED,
            )

    def _rep_token(self, token: str) -> tuple[Principal, RepToken]:
        """A rep token of this tenant: an expired one is told apart (``token_expired``) so the
        client app knows to mint a new one; only a token whose secret matches gets that far."""
        check = rep_token_check(token=token)
        row = check.rep_token
        if row is None:
            raise self._invalid()
        if check.expired:
            raise AuthenticationFailed("This rep token has expired; mint a new one.", code="token_expired")
        principal = Principal(
            kind="rep", key_id=row.pk, rep_id=row.rep_id, rep_external_id=row.rep.external_id
        )
        return principal, row

    @staticmethod
    def _invalid() -> AuthenticationFailed:
        return AuthenticationFailed("Invalid or revoked token.", code="invalid_token")

    def _find(self, model: type[ApiKey] | type[PlatformKey], token: str) -> ApiKey | PlatformKey:
        # Every request runs this: raw SQL costs a fraction of compiling the ORM query (the
        # prefix is unique; a revoked key is never found).
        table = connection.ops.quote_name(model._meta.db_table)
        sql = f"SELECT {model_columns(model)} FROM {table} WHERE prefix = %s AND revoked_at IS NULL"  # noqa: S608 (a model's table)
        with prepared_cursor() as cursor:  # every request runs it
            cursor.execute(sql, [token_prefix(token)])
            values = cursor.fetchone()
        row = model_from_row(model, values) if values else None
        if row is None or not token_matches(token, row.key_hash):
            raise self._invalid()
        now = timezone.now()
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_GRANULARITY:
            with connection.cursor() as cursor:
                sql = f"UPDATE {table} SET last_used_at = %s WHERE id = %s"  # noqa: S608 (a model's table)
                if connection.in_atomic_block:  # part of a larger transaction: its own terms
                    cursor.execute(sql, [now, row.pk])
                else:
                    statements_execute(cursor, _COMMIT_ASYNC + sql, [now, row.pk])
            row.last_used_at = now
        return row
