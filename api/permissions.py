"""Who may do what. Every view names its permission; the default denies."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rest_framework.permissions import SAFE_METHODS, BasePermission

from api.models import Role

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

KEY_ROLES = frozenset(Role.values)
ADMIN = frozenset({Role.ADMIN.value})
ADMIN_OR_INTEGRATION = frozenset({Role.ADMIN.value, Role.INTEGRATION.value})


class DenyAll(BasePermission):
    """The default: a view that forgets to declare its permission serves nobody."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return False


class IsPlatform(BasePermission):
    message = "A platform key is required."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return getattr(request.user, "kind", None) == "platform"


class KeyRoles(BasePermission):
    """Tenant API keys: reads by ``read_roles``, writes by ``write_roles``."""

    read_roles: frozenset[str] = KEY_ROLES
    write_roles: frozenset[str] = ADMIN
    message = "This key's role may not do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
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
