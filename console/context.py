"""Template context of every console page: the signed-in member and the navigation their role
sees. A page's links follow the same rule as its view (``console.pages.role_reaches``): a
member never sees a link to a page that would refuse them."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from access.models import MemberRole
from console.pages import role_reaches


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    role: str


NAV = (
    NavItem("Overview", "/console/", MemberRole.VIEWER),
    NavItem("Reps", "/console/reps", MemberRole.VIEWER),
    NavItem("Leaderboards", "/console/leaderboards", MemberRole.VIEWER),
    NavItem("Scoring weights", "/console/weights", MemberRole.VIEWER),
    NavItem("Badges", "/console/badges", MemberRole.VIEWER),
    NavItem("Goals", "/console/goals", MemberRole.VIEWER),
    NavItem("Contests", "/console/contests", MemberRole.VIEWER),
    NavItem("Webhooks", "/console/webhooks", MemberRole.ADMIN),
    NavItem("API keys", "/console/keys", MemberRole.ADMIN),
    NavItem("Members", "/console/members", MemberRole.ADMIN),
    NavItem("Audit log", "/console/audit", MemberRole.MANAGER),
)


def console(request: HttpRequest) -> dict[str, object]:
    member = getattr(request, "member", None)
    if member is None or not request.path.startswith("/console/"):
        return {}
    path = request.path
    items = []
    for item in NAV:
        if not role_reaches(member, item.role):
            continue
        current = path == item.path if item.path == "/console/" else path.startswith(item.path)
        items.append({"label": item.label, "path": item.path, "current": current})
    return {
        "member": member,
        "nav": items,
        "may_manage": role_reaches(member, MemberRole.MANAGER),
        "may_admin": role_reaches(member, MemberRole.ADMIN),
    }
