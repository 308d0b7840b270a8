"""Every page of the console, in one list: its name, path, title and what it is for.

The tools that go over the pages read it, so a page added here is shot by ``make screenshots``
(``bench.screenshots``), timed by ``make bench``'s console phase (``bench.phases.console``)
and checked by the tests (each path must resolve in ``console/urls.py``). ``name`` is how
those tools name a page: the screenshot files (``docs/console/<name>-desktop.jpg``) and
``BENCH_CONSOLE_PAGES``. It imports nothing of Django, so a tool can read it before setting
Django up.

Two paths take a value: ``{rep}``, a rep's id in the database (``/console/reps/<id>``), and
``{token}``, a rep token (``ssir_…``), which ``/console/me`` exchanges for a short session.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Page:
    name: str
    path: str  # may hold {rep} or {token}
    title: str
    purpose: str
    role: str = "viewer"  # the least member role that opens it (access.models.MemberRole)
    # Who opens it: "member" (a member's session), "anyone" (sign-in) or "rep" (a rep token).
    audience: str = "member"

    def url(self, *, rep: str = "", token: str = "") -> str:
        """The page's path with its values filled in (each quoted for a URL)."""
        return self.path.format(rep=quote(rep, safe=""), token=quote(token, safe=""))


PAGES: tuple[Page, ...] = (
    Page("login", "/console/login", "Sign in",
         "Members sign in with their email and password; a link leads to the password reset.",
         audience="anyone"),
    Page("overview", "/console/", "Overview",
         "The company's SSI today and its trend, reps by band, pillar averages, teams side by side, "
         "the week's biggest movers and recent awards."),
    Page("reps", "/console/reps", "Reps",
         "Every rep, searchable and sorted by SSI, XP, streak or change, each with a sparkline."),
    Page("rep", "/console/reps/{rep}", "A rep",
         "One rep: SSI trend with its four pillars, the points per signal, top recommendations, badges, "
         "goals with progress and a streak calendar."),
    Page("leaderboards", "/console/leaderboards", "Leaderboards",
         "Every metric, period and team the API ranks reps by."),
    Page("weights", "/console/weights", "Scoring weights",
         "The weights per pillar and signal, edited with a what-if preview before they are published."),
    Page("weights-versions", "/console/weights/versions", "Weight versions",
         "Every published version of the weights, who published it, and a readable diff."),
    Page("badges", "/console/badges", "Badges", "The tenant's badges and their criteria."),
    Page("badges-new", "/console/badges/new", "New badge",
         "Create a badge with the criteria builder (the JSON criteria as an advanced view).",
         role="manager"),
    Page("badges-awards", "/console/badges/awards", "Badge awards", "The feed of badges awarded to reps."),
    Page("goals", "/console/goals", "Goals", "The tenant's goals and each rep's progress."),
    Page("goals-new", "/console/goals/new", "New goal", "Create a goal.", role="manager"),
    Page("contests", "/console/contests", "Contests",
         "The tenant's contests; each opens on its standings, paged, with a button to cancel it."),
    Page("contests-new", "/console/contests/new", "New contest",
         "Create a leaderboard, race or teams contest with its participants and prizes.", role="manager"),
    Page("webhooks", "/console/webhooks", "Webhooks",
         "Subscriptions, their deliveries and tries, and redelivery.", role="admin"),
    Page("keys", "/console/keys", "API keys",
         "API keys: create one (shown once) and revoke.", role="admin"),
    Page("members", "/console/members", "Members",
         "The people who sign in: invite, change a role, remove.", role="admin"),
    Page("audit", "/console/audit", "Audit log",
         "Every change made through the API or the console, filterable.", role="manager"),
    Page("me", "/console/me?token={token}", "A rep's own page",
         "What a rep sees of themself, through a rep token (and what a company's app may embed).",
         audience="rep"),
)  # fmt: skip


def page_get(name: str) -> Page:
    """The page named ``name``; ``KeyError`` naming the known ones otherwise."""
    for page in PAGES:
        if page.name == name:
            return page
    raise KeyError(f"no console page {name!r}; the pages are {', '.join(p.name for p in PAGES)}")


def pages_named(names: str) -> list[Page]:
    """The pages of a comma-separated list of names (empty: every page), in the catalog's order;
    ``KeyError`` on an unknown name."""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    for name in wanted:
        page_get(name)
    return [p for p in PAGES if not wanted or p.name in wanted]
