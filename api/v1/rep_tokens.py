"""``POST /api/v1/rep-tokens``: mint a short-lived token for one rep (admin and integration keys);
``POST /api/v1/rep-tokens/revoke``: revoke a rep's tokens (admin keys)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.rep_tokens import DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, rep_token_create, rep_tokens_revoke
from api.actors import actor_of
from api.permissions import ADMIN, ADMIN_OR_INTEGRATION, key_roles
from api.v1.serializers import StrictInputSerializer
from core.errors import ValidationFailed
from scoring.models import Rep


class RepTokensRevokeInSerializer(StrictInputSerializer):
    rep = serializers.CharField(max_length=128, help_text="The rep's external_id.")


# The rep, as for a revocation, and the token's lifetime.
class RepTokenInSerializer(RepTokensRevokeInSerializer):
    ttl_seconds = serializers.IntegerField(
        required=False,
        default=DEFAULT_TTL_SECONDS,
        min_value=1,
        max_value=MAX_TTL_SECONDS,
        help_text=f"Lifetime in seconds, 1 to {MAX_TTL_SECONDS}; default {DEFAULT_TTL_SECONDS}.",
    )


class RepTokenCreatedSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="The rep token (`ssir_…`). Shown only in this answer; it is stored hashed."
    )
    expires_at = serializers.DateTimeField()
    rep = serializers.CharField(help_text="The rep's external_id.")


class RepTokenView(APIView):
    permission_classes = [key_roles(read=ADMIN_OR_INTEGRATION, write=ADMIN_OR_INTEGRATION)]

    @extend_schema(
        tags=["rep-tokens"],
        summary="Mint a rep token",
        description=(
            "A bearer token for a client app showing one rep its own data: with it, `GET` of that rep's "
            "card (`/reps/{external_id}`), SSI, SSI history and explanation, badges and goals, and of "
            "the leaderboards (with the rep's own row as `me`). Everything else is a 403. Using it after "
            "`expires_at` is a 401 `token_expired`. An unknown `rep` is a 400 naming `rep` "
            "(`unknown_rep`). Admin and integration keys only."
        ),
        request=RepTokenInSerializer,
        responses={201: RepTokenCreatedSerializer},
    )
    def post(self, request: Request) -> Response:
        data = RepTokenInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rep = _rep(data.validated_data["rep"])
        created = rep_token_create(
            rep_id=rep.pk,
            ttl_seconds=data.validated_data["ttl_seconds"],
            created_by_key_id=getattr(request.user, "key_id", None),
        )
        body = {"token": created.token, "expires_at": created.expires_at, "rep": rep.external_id}
        return Response(RepTokenCreatedSerializer(body).data, status=status.HTTP_201_CREATED)


def _rep(external_id: str) -> Rep:
    """The rep a request body names; an unknown one is a 400 naming ``rep``."""
    rep = Rep.objects.filter(external_id=external_id).first()
    if rep is None:
        raise ValidationFailed(f"No rep with external_id {external_id!r}.", code="unknown_rep", attr="rep")
    return rep


class RepTokensRevokedSerializer(serializers.Serializer):
    rep = serializers.CharField(help_text="The rep's external_id.")
    revoked = serializers.IntegerField(help_text="How many unexpired tokens were revoked (0: none was live).")


class RepTokensRevokeView(APIView):
    permission_classes = [key_roles(read=ADMIN, write=ADMIN)]

    @extend_schema(
        tags=["rep-tokens"],
        summary="Revoke a rep's tokens",
        description=(
            "Every rep token of the rep stops working at once (a 401 `invalid_token` from then on). "
            "Recorded in the audit log (`target_type` `rep_tokens`) when a live token was revoked. "
            "Revoking an API key also revokes the rep tokens it minted. Admin keys only."
        ),
        request=RepTokensRevokeInSerializer,
        responses={200: RepTokensRevokedSerializer},
    )
    def post(self, request: Request) -> Response:
        data = RepTokensRevokeInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rep = _rep(data.validated_data["rep"])
        revoked = rep_tokens_revoke(rep_id=rep.pk, rep_external_id=rep.external_id, actor=actor_of(request))
        return Response(RepTokensRevokedSerializer({"rep": rep.external_id, "revoked": revoked}).data)
