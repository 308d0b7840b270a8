"""Chat formats: the body a Slack or Microsoft Teams incoming webhook posts as a message.

Pure functions, no Django: an event's type and ``data`` (the same ``data`` as the JSON
envelope's) and the display names the payload does not carry go in; the request body,
a JSON-able dict, comes out. The delivery service loads the names, then signs and sends
the body exactly as it does the JSON envelope (docs/webhooks.md, "Chat formats").

Each event becomes one format-neutral ``Announcement`` (an emoji, a fixed title, a
headline and further lines, each a run of spans, some emphasised), which each format
writes out with its own escaping, so that a name can never become markup:

- Slack (mrkdwn): ``&``, ``<`` and ``>`` become ``&amp;``, ``&lt;``, ``&gt;``, Slack's own
  rule (``<`` opens links and mentions such as ``<!channel>``); emphasis is ``*bold*``.
  mrkdwn has no escape for ``*``, ``_`` or ``~``: a name holding them may shift the
  emphasis, nothing more.
- Teams (Adaptive Card): names go in the ``TextRun`` elements of a ``RichTextBlock``,
  which Teams shows as plain text (no markdown); emphasis is ``weight: Bolder``. Only
  fixed text goes in a ``TextBlock`` (whose text Teams reads as markdown).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

SLACK = "slack"
TEAMS = "teams"
CHAT_FORMATS = (SLACK, TEAMS)
# The events a chat format announces; other events are never sent to a chat webhook.
CHAT_EVENTS = ("badge.awarded", "level.up", "goal.achieved", "contest.ended")

NAME_LIMIT = 100  # characters of one name or title, before escaping ("…" when cut)
WINNERS_LIMIT = 25  # winners listed by name; "… and N more" after them
SLACK_SECTION_LIMIT = 3000  # Slack refuses a section text longer than this
MEDALS = {1: "🥇", 2: "🥈", 3: "🥉"}


@dataclass(frozen=True)
class Span:
    text: str
    strong: bool = False


Line = tuple[Span, ...]


@dataclass(frozen=True)
class Announcement:
    """One event as a chat message, before any format's escaping."""

    emoji: str
    title: str  # fixed text: never a name
    headline: Line
    lines: tuple[Line, ...] = ()


@dataclass(frozen=True)
class Names:
    """Display names: reps by external id, teams by id. A rep without a name shows its
    external id; a team not found (deleted since) shows ``Team #<id>``."""

    reps: Mapping[str, str] = field(default_factory=dict)
    teams: Mapping[int, str] = field(default_factory=dict)

    def rep(self, external_id: Any) -> str:
        key = "" if external_id is None else str(external_id)
        return self.reps.get(key) or key or "A rep"

    def team(self, team_id: Any) -> str:
        name = self.teams.get(team_id) if isinstance(team_id, int) else None
        return name or f"Team #{team_id}"


def names_wanted(event_type: str, data: Any) -> tuple[set[str], set[int]]:
    """The rep external ids and team ids an event's message names (for the caller to look up)."""
    reps: set[str] = set()
    teams: set[int] = set()
    if not isinstance(data, dict):
        return reps, teams
    mentions: list[Any] = [data]
    if event_type == "contest.ended":
        mentions = [w for w in data.get("winners") or [] if isinstance(w, dict)]
    for item in mentions:
        if isinstance(item.get("rep"), str):
            reps.add(item["rep"])
        if isinstance(item.get("team"), int) and not isinstance(item.get("team"), bool):
            teams.add(item["team"])
    return reps, teams


# --- Events -----------------------------------------------------------------------------------------


def _cut(text: Any) -> str:
    """One line (runs of spaces, tabs and newlines become one space), at most NAME_LIMIT long."""
    text = "" if text is None else " ".join(str(text).split())
    return text if len(text) <= NAME_LIMIT else text[: NAME_LIMIT - 1] + "…"


def _number(value: Any) -> str:
    """``2.0`` -> ``2``, ``64.314`` -> ``64.31``, ``1250`` -> ``1,250``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _cut(value)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


def _badge_awarded(data: Mapping[str, Any], names: Names) -> Announcement:
    headline: list[Span] = [
        Span(f"{_cut(names.rep(data.get('rep')))} earned the badge "),
        Span(_cut(data.get("name") or data.get("badge")), strong=True),
    ]
    if data.get("period"):
        headline.append(Span(f" for {_cut(data['period'])}"))
    if isinstance(data.get("xp_reward"), int) and data["xp_reward"] > 0:
        headline.append(Span(f" (+{_number(data['xp_reward'])} XP)"))
    return Announcement("🏅", "Badge earned", tuple(headline))


def _level_up(data: Mapping[str, Any], names: Names) -> Announcement:
    headline = (
        Span(f"{_cut(names.rep(data.get('rep')))} reached "),
        Span(f"level {_number(data.get('level'))}", strong=True),
        Span(f" ({_number(data.get('xp'))} XP)" if data.get("xp") is not None else ""),
    )
    return Announcement("⭐", "Level up", headline)


def _goal_achieved(data: Mapping[str, Any], names: Names) -> Announcement:
    if data.get("rep") is not None:
        who = names.rep(data["rep"])
    else:  # "Team North", or "Team #4" when it is gone
        team = data.get("team")
        who = f"Team {names.team(team)}" if team in names.teams else names.team(team)
    headline = [Span(f"{_cut(who)} achieved the goal "), Span(_cut(data.get("title")), strong=True)]
    if data.get("current") is not None and data.get("target") is not None:
        headline.append(Span(f" ({_number(data['current'])} of {_number(data['target'])})"))
    return Announcement("🎯", "Goal achieved", tuple(headline))


def _contest_ended(data: Mapping[str, Any], names: Names) -> Announcement:
    contest = data.get("contest")
    if not isinstance(contest, dict):
        contest = {}
    title = contest.get("name") or f"#{contest.get('id', '?')}"
    headline = (Span("The contest "), Span(_cut(title), strong=True), Span(" has ended."))
    winners = [w for w in data.get("winners") or [] if isinstance(w, dict)]
    winners.sort(key=lambda w: w["rank"] if isinstance(w.get("rank"), int) else 1 << 30)
    lines: list[Line] = []
    for winner in winners[:WINNERS_LIMIT]:
        rank = winner.get("rank")
        place = MEDALS.get(rank, f"{_number(rank)}.") if isinstance(rank, int) else "·"
        if winner.get("rep") is not None:
            name = names.rep(winner["rep"])
        else:  # a team: the payload's own name, else the one looked up
            name = winner.get("name") or names.team(winner.get("team"))
        lines.append((Span(f"{place} "), Span(_cut(name), strong=True)))
    if len(winners) > WINNERS_LIMIT:
        lines.append((Span(f"… and {len(winners) - WINNERS_LIMIT} more"),))
    if not winners:
        lines.append((Span("No prizes were won."),))
    return Announcement("🏆", "Contest ended", headline, tuple(lines))


RENDERERS: dict[str, Callable[[Mapping[str, Any], Names], Announcement]] = {
    "badge.awarded": _badge_awarded,
    "level.up": _level_up,
    "goal.achieved": _goal_achieved,
    "contest.ended": _contest_ended,
}


def announcement(event_type: str, data: Any, names: Names) -> Announcement | None:
    """The message for an event; None for an event no chat format announces."""
    render = RENDERERS.get(event_type)
    if render is None or not isinstance(data, dict):
        return None
    return render(data, names)


# --- Slack -----------------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Slack's three control characters as entities (``&`` first)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_line(line: Sequence[Span]) -> str:
    out = []
    for span in line:
        text = slack_escape(span.text)
        out.append(f"*{text}*" if span.strong and text.strip() else text)
    return "".join(out)


def slack_body(message: Announcement) -> dict[str, Any]:
    """``{"text", "blocks"}`` for a Slack incoming webhook: the headline as ``text`` (what
    notifications show) and one ``section`` with the headline and the lines in mrkdwn."""
    headline = f"{message.emoji} {_slack_line(message.headline)}"
    section = headline
    lines = [_slack_line(line) for line in message.lines]
    for index, line in enumerate(lines):
        more = f"\n… and {len(lines) - index} more lines"
        if len(section) + 1 + len(line) + len(more) > SLACK_SECTION_LIMIT:
            section += more
            break
        section += "\n" + line
    return {"text": headline, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": section}}]}


# --- Microsoft Teams --------------------------------------------------------------------------------


def _teams_rich(line: Sequence[Span]) -> dict[str, Any]:
    inlines: list[dict[str, Any]] = []
    for span in line:
        if not span.text:
            continue
        run: dict[str, Any] = {"type": "TextRun", "text": span.text}
        if span.strong:
            run["weight"] = "Bolder"
        inlines.append(run)
    return {"type": "RichTextBlock", "inlines": inlines}


def teams_body(message: Announcement) -> dict[str, Any]:
    """A message with one Adaptive Card (1.4), as a Teams incoming webhook (a Workflows
    "post to a channel when a webhook request is received" flow, or a connector) takes."""
    title = {
        "type": "TextBlock",
        "text": f"{message.emoji} {message.title}",
        "weight": "Bolder",
        "wrap": True,
    }
    body: list[dict[str, Any]] = [
        {**title, "size": "Medium"},
        _teams_rich(message.headline),
        *(_teams_rich(line) for line in message.lines),
    ]
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


# --- The request body -------------------------------------------------------------------------------

WRITERS: dict[str, Callable[[Announcement], dict[str, Any]]] = {SLACK: slack_body, TEAMS: teams_body}


def chat_body(*, format: str, event_type: str, data: Any, names: Names) -> dict[str, Any] | None:
    """The body of ``format`` for an event; None when the format or the event has no message."""
    writer = WRITERS.get(format)
    message = announcement(event_type, data, names)
    if writer is None or message is None:
        return None
    return writer(message)


def chat_payload(*, format: str, event_type: str, data: Any, names: Names) -> bytes | None:
    """``chat_body`` as the bytes sent: compact UTF-8 JSON, as the JSON envelope is."""
    body = chat_body(format=format, event_type=event_type, data=data, names=names)
    if body is None:
        return None
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
