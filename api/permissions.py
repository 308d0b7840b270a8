"""Who may do what. Every view names its permission; the default denies."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rest_framework.permissions import SAFE_METHODS, BasePermission

from access.models import Role
from scoring.models import Rep

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

KEY_ROLES = frozenset(Role.values)
ADMIN = frozenset({Role.ADMIN.value})
ADMIN_OR_INTEGRATION = frozenset({Role.ADMIN.value, Role.INTEGRATION.value})
REP_TOKEN_SCOPE = (
    "A rep token may only read its own rep's data, its own team's and the company's SSI, and the "
    "leaderboards."
)


def _is_rep(request: Request) -> bool:
    return getattr(request.user, "kind", None) == "rep"


class DenyAll(BasePermission):
    """The default: a view that forgets to declare its permission serves nobody."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return False


class IsPlatform(BasePermission):
    message = "A platform key is required."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return getattr(request.user, "kind", None) == "platform"


class KeyRoles(BasePermission):
    """Tenant API keys: reads by ``read_roles``, writes by ``write_roles``. Rep tokens: never."""

    read_roles: frozenset[str] = KEY_ROLES
    write_roles: frozenset[str] = ADMIN
    message = "This key's role may not do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if _is_rep(request):
            self.message = REP_TOKEN_SCOPE
        if getattr(user, "kind", None) != "key":
            return False
        roles = self.read_roles if request.method in SAFE_METHODS else self.write_roles
        return getattr(user, "role", None) in roles


def key_roles(*, write: Iterable[str], read: Iterable[str] = KEY_ROLES) -> type[KeyRoles]:
    return type(
        "KeyRoles",
        (KeyRoles,),
        {"read_roles": frozenset(read), "write_roles": frozenset(write)},
    )


class OwnRepOrKeyRoles(KeyRoles):
    """Keys by role (as ``KeyRoles``); a rep token only for reads of its own rep.

    For the routes under ``/reps/{external_id}``: the rep token's rep must be
    the one in the URL (``view.kwargs[lookup_kwarg]``). Another rep's, or a
    rep that does not exist, is a 403 either way: a rep token learns nothing
    about other reps from these routes.
    """

    lookup_kwarg = "external_id"

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not _is_rep(request):
            return super().has_permission(request, view)
        self.message = REP_TOKEN_SCOPE
        own = getattr(request.user, "rep_external_id", None)
        return (
            request.method in SAFE_METHODS and own is not None and view.kwargs.get(self.lookup_kwarg) == own
        )


class AnyRepOrKeyRoles(KeyRoles):
    """Keys by role; any rep token of the tenant for reads (the leaderboards)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not _is_rep(request):
            return super().has_permission(request, view)
        self.message = REP_TOKEN_SCOPE
        return request.method in SAFE_METHODS


class RepActsOrKeyRoles(KeyRoles):
    """Keys by role; any rep token of the tenant for reads and writes, the view and its service
    deciding what the rep may see and do (head-to-head challenges: its own)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not _is_rep(request):
            return super().has_permission(request, view)
        return True


def rep_acts_or_key_roles(*, write: Iterable[str], read: Iterable[str] = KEY_ROLES) -> type[KeyRoles]:
    return type(
        "RepActsOrKeyRoles",
        (RepActsOrKeyRoles,),
        {"read_roles": frozenset(read), "write_roles": frozenset(write)},
    )


class OwnTeamOrKeyRoles(KeyRoles):
    """Keys by role; a rep token only for reads of its own rep's team (as it is now).

    For the routes under ``/teams/{id}``: another team, or one that does not exist, is a
    403 either way, as for ``OwnRepOrKeyRoles``.
    """

    lookup_kwarg = "id"

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not _is_rep(request):
            return super().has_permission(request, view)
        self.message = REP_TOKEN_SCOPE
        rep_id = getattr(request.user, "rep_id", None)
        if request.method not in SAFE_METHODS or rep_id is None:
            return False
        own = Rep.objects.filter(pk=rep_id).values_list("team_id", flat=True).first()
        return own is not None and view.kwargs.get(self.lookup_kwarg) == own


def own_team_or_key_roles(*, write: Iterable[str], read: Iterable[str] = KEY_ROLES) -> type[KeyRoles]:
    return type(
        "OwnTeamOrKeyRoles",
        (OwnTeamOrKeyRoles,),
        {"read_roles": frozenset(read), "write_roles": frozenset(write)},
    )


def own_rep_or_key_roles(*, write: Iterable[str], read: Iterable[str] = KEY_ROLES) -> type[KeyRoles]:
    return type(
        "OwnRepOrKeyRoles",
        (OwnRepOrKeyRoles,),
        {"read_roles": frozenset(read), "write_roles": frozenset(write)},
    )


def any_rep_or_key_roles(*, write: Iterable[str], read: Iterable[str] = KEY_ROLES) -> type[KeyRoles]:
    return type(
        "AnyRepOrKeyRoles",
        (AnyRepOrKeyRoles,),
        {"read_roles": frozenset(read), "write_roles": frozenset(write)},
    )
