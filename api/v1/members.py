"""``/api/v1/members``: the people who sign in to the console, and their invitations (admins only)."""

from __future__ import annotations

from django.http import HttpRequest
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from access.members import (
    Invitation,
    invitation_email_send,
    member_delete,
    member_invite,
    member_reinvite,
    member_update,
)
from access.models import Member, MemberRole
from api.actors import actor_of
from api.permissions import ADMIN, key_roles
from api.v1.serializers import StrictInputSerializer


class MemberSerializer(serializers.ModelSerializer):
    class Meta:
        model = Member
        fields = ["id", "email", "name", "role", "status", "created_at", "updated_at"]


class MemberInvitedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(allow_blank=True)
    role = serializers.ChoiceField(choices=MemberRole.choices)
    status = serializers.ChoiceField(choices=Member.Status.choices)
    invite_url = serializers.URLField(
        help_text="The invitation link on this tenant's host: valid for 7 days and once. Also emailed."
    )


class MemberCreateInSerializer(StrictInputSerializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=MemberRole.choices)


class MemberPatchInSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=MemberRole.choices, required=False)
    ignored_fields = ("id", "email", "status", "created_at", "updated_at")


class MemberInviteInSerializer(StrictInputSerializer):
    """No fields: the body is empty or ``{}``."""


def invite_url(request: HttpRequest, token: str) -> str:
    """The invitation link on the host the request came to (the tenant's)."""
    return request.build_absolute_uri(f"/console/invite/{token}")


def _sent(request: Request, invitation: Invitation) -> Response:
    member = invitation.member
    url = invite_url(request._request, invitation.token)
    invitation_email_send(member=member, url=url)
    body = MemberInvitedSerializer(
        {
            "id": member.pk,
            "email": member.email,
            "name": member.name,
            "role": member.role,
            "status": member.status,
            "invite_url": url,
        }
    ).data
    return Response(body, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="List members",
        description=(
            "The people who may sign in to the tenant's console, with role and status. Admin keys only."
        ),
    ),
    retrieve=extend_schema(summary="Get a member", description="One member by id. Admin keys only."),
    create=extend_schema(
        summary="Invite a member",
        description=(
            "Adds a member (`invited`) with a role (`admin`, `manager` or `viewer`) and answers their "
            "invitation link, `invite_url`, also sent by email: on this tenant's host, valid for 7 days "
            "and once. An email that is already a member's (in any case) is a 409 `member_exists`. "
            "Admin keys only."
        ),
        request=MemberCreateInSerializer,
        responses={201: MemberInvitedSerializer},
    ),
    partial_update=extend_schema(
        summary="Update a member",
        description=(
            "Changes the member's name or role. The last active admin member cannot be demoted "
            "(409 `last_admin`). Admin keys only."
        ),
        request=MemberPatchInSerializer,
        responses={200: MemberSerializer},
    ),
    destroy=extend_schema(
        summary="Remove a member",
        description=(
            "Removes the member; every console session they had ends at once. The last active admin "
            "member cannot be removed (409 `last_admin`). Admin keys only."
        ),
    ),
    invite=extend_schema(
        summary="Send a fresh invitation link",
        description=(
            "A new invitation link (valid for 7 days and once), answered and emailed; the member's "
            "previous link stops working. For an active member the link sets a new password. "
            "Admin keys only."
        ),
        request=OpenApiTypes.OBJECT,  # nothing, or {}: the hook says no fields (api/schema/hooks.py)
        responses={201: MemberInvitedSerializer},
    ),
)
@extend_schema(tags=["members"])
class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [key_roles(read=ADMIN, write=ADMIN)]
    serializer_class = MemberSerializer
    queryset = Member.objects.order_by("id")

    def create(self, request: Request) -> Response:
        data = MemberCreateInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = member_invite(
            email=data.validated_data["email"],
            name=data.validated_data.get("name", ""),
            role=data.validated_data["role"],
            actor=actor_of(request),
        )
        return _sent(request, invitation)

    def partial_update(self, request: Request, pk: str) -> Response:
        member = self.get_object()
        data = MemberPatchInSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        member = member_update(member=member, changes=dict(data.validated_data), actor=actor_of(request))
        return Response(MemberSerializer(member).data)

    def destroy(self, request: Request, pk: str) -> Response:
        member_delete(member=self.get_object(), actor=actor_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=True, methods=["post"])
    def invite(self, request: Request, pk: str) -> Response:
        MemberInviteInSerializer(data=request.data or {}).is_valid(raise_exception=True)
        return _sent(request, member_reinvite(member_id=self.get_object().pk, actor=actor_of(request)))
