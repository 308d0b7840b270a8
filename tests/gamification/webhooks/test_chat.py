"""The chat renderers on hand-made payloads: no database, no Django.

Each body is checked twice: the exact text a person reads, and the shape the tool's
incoming webhook accepts (tests/support/chat_formats.py, written from the tools' limits).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gamification.webhooks.chat import (
    CHAT_EVENTS,
    NAME_LIMIT,
    Names,
    chat_body,
    chat_payload,
    names_wanted,
    slack_escape,
)
from tests.support.chat_formats import slack_problems, teams_problems, teams_text

NAMES = Names(reps={"u-1001": "Ann Example", "u-1002": "Bo Berg"}, teams={4: "North", 5: "South"})
BADGE = {
    "id": 812, "rep": "u-1001", "badge": "thought-leader", "name": "Thought leader", "period": "",
    "xp_reward": 0, "awarded_at": "2025-06-12T09:31:02.101233+00:00",
}  # fmt: skip
LEVEL = {"rep": "u-1001", "level": 3, "xp": 320}
GOAL = {
    "id": 17, "title": "Post twice a week", "rep": "u-1001", "team": None, "metric": "events.post_published",
    "target": 2.0, "current": 2.0, "status": "achieved",
}  # fmt: skip
TEAM_GOAL = {
    "id": 18, "title": "Team SSI 70 in June", "rep": None, "team": 4, "metric": "ssi", "target": 70.0,
    "current": 71.456, "status": "achieved",
}  # fmt: skip
CONTEST = {
    "contest": {"id": 7, "name": "June push", "metric": "events.post_published", "kind": "leaderboard"},
    "winners": [{"rank": 2, "rep": "u-1002"}, {"rank": 1, "rep": "u-1001"}, {"rank": 3, "rep": "u-9"}],
}
TEAMS_CONTEST = {
    "contest": {"id": 8, "name": "Team cup", "kind": "teams"},
    "winners": [{"rank": 1, "team": 5}, {"rank": 2, "team": 4}, {"rank": 4, "team": 99}],
}


def slack(event_type: str, data: Any, names: Names = NAMES) -> dict[str, Any]:
    body = chat_body(format="slack", event_type=event_type, data=data, names=names)
    assert body is not None
    assert slack_problems(body) == []
    return body


def slack_section(event_type: str, data: Any, names: Names = NAMES) -> str:
    body = slack(event_type, data, names)
    (block,) = body["blocks"]
    assert block["type"] == "section" and block["text"]["type"] == "mrkdwn"
    text: str = block["text"]["text"]
    return text


def teams(event_type: str, data: Any, names: Names = NAMES) -> list[str]:
    body = chat_body(format="teams", event_type=event_type, data=data, names=names)
    assert body is not None
    assert teams_problems(body) == []
    return teams_text(body)


# --- What each event says ---------------------------------------------------------------------------


def test_a_badge_in_slack_is_the_sentence_with_its_name_in_bold_and_the_same_fallback_text() -> None:
    assert slack("badge.awarded", BADGE) == {
        "text": "🏅 Ann Example earned the badge *Thought leader*",
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "🏅 Ann Example earned the badge *Thought leader*"},
            }
        ],
    }


def test_a_badge_in_teams_is_an_adaptive_card_with_a_title_and_the_sentence() -> None:
    body = chat_body(format="teams", event_type="badge.awarded", data=BADGE, names=NAMES)
    assert body == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {"type": "TextBlock", "text": "🏅 Badge earned", "weight": "Bolder", "wrap": True,
                         "size": "Medium"},
                        {"type": "RichTextBlock", "inlines": [
                            {"type": "TextRun", "text": "Ann Example earned the badge "},
                            {"type": "TextRun", "text": "Thought leader", "weight": "Bolder"},
                        ]},
                    ],
                },
            }
        ],
    }  # fmt: skip
    assert teams_problems(body) == []


def test_a_periodic_badge_with_a_reward_says_the_period_and_the_xp() -> None:
    weekly = {**BADGE, "period": "2025-W24", "xp_reward": 1500}
    assert slack_section("badge.awarded", weekly) == (
        "🏅 Ann Example earned the badge *Thought leader* for 2025-W24 (+1,500 XP)"
    )
    assert (
        teams("badge.awarded", weekly)[1]
        == "Ann Example earned the badge Thought leader for 2025-W24 (+1,500 XP)"
    )


def test_a_level_up() -> None:
    assert slack_section("level.up", LEVEL) == "⭐ Ann Example reached *level 3* (320 XP)"
    assert teams("level.up", LEVEL) == ["⭐ Level up", "Ann Example reached level 3 (320 XP)"]


def test_a_rep_goal_and_a_team_goal_say_who_reached_what() -> None:
    assert (
        slack_section("goal.achieved", GOAL)
        == "🎯 Ann Example achieved the goal *Post twice a week* (2 of 2)"
    )
    assert slack_section("goal.achieved", TEAM_GOAL) == (
        "🎯 Team North achieved the goal *Team SSI 70 in June* (71.46 of 70)"
    )
    assert teams("goal.achieved", TEAM_GOAL) == [
        "🎯 Goal achieved",
        "Team North achieved the goal Team SSI 70 in June (71.46 of 70)",
    ]


def test_a_finished_contest_lists_its_winners_by_rank_with_medals() -> None:
    assert slack_section("contest.ended", CONTEST) == (
        "🏆 The contest *June push* has ended.\n🥇 *Ann Example*\n🥈 *Bo Berg*\n🥉 *u-9*"
    )
    assert slack("contest.ended", CONTEST)["text"] == "🏆 The contest *June push* has ended."
    assert teams("contest.ended", CONTEST) == [
        "🏆 Contest ended",
        "The contest June push has ended.",
        "🥇 Ann Example",
        "🥈 Bo Berg",
        "🥉 u-9",
    ]


def test_a_team_contest_names_its_winning_teams() -> None:
    assert slack_section("contest.ended", TEAMS_CONTEST) == (
        "🏆 The contest *Team cup* has ended.\n🥇 *South*\n🥈 *North*\n4. *Team #99*"
    )


def test_a_goal_of_a_team_deleted_since_names_it_by_id() -> None:
    assert teams("goal.achieved", {**TEAM_GOAL, "team": 99})[1].startswith("Team #99 achieved the goal")


def test_a_contest_without_winners_says_so() -> None:
    assert teams("contest.ended", {"contest": {"id": 9, "name": "Quiet"}, "winners": []})[2:] == [
        "No prizes were won."
    ]


def test_a_tie_for_first_gives_two_gold_medals() -> None:
    tie = {**CONTEST, "winners": [{"rank": 1, "rep": "u-1001"}, {"rank": 1, "rep": "u-1002"}]}
    assert slack_section("contest.ended", tie).splitlines()[1:] == ["🥇 *Ann Example*", "🥇 *Bo Berg*"]


def test_a_rep_without_a_name_is_shown_by_its_external_id() -> None:
    assert slack_section("level.up", {**LEVEL, "rep": "crm-7"}) == "⭐ crm-7 reached *level 3* (320 XP)"


# --- Escaping ---------------------------------------------------------------------------------------


def test_slack_control_characters_in_names_are_escaped_so_no_link_or_mention_is_made() -> None:
    names = Names(reps={"u-1001": "<!channel> Ann & <http://evil.example|click>"})
    badge = {**BADGE, "name": "R&D <b>"}
    text = slack_section("badge.awarded", badge, names)
    assert text == (
        "🏅 &lt;!channel&gt; Ann &amp; &lt;http://evil.example|click&gt; earned the badge *R&amp;D &lt;b&gt;*"
    )
    assert slack("badge.awarded", badge, names)["text"] == text


def test_slack_escape_turns_ampersands_first() -> None:
    assert slack_escape("&lt; <") == "&amp;lt; &lt;"


def test_teams_shows_names_as_plain_text_runs_never_as_markdown() -> None:
    names = Names(reps={"u-1001": "**Ann** [click](http://evil.example) <at>x</at>"})
    body = chat_body(format="teams", event_type="level.up", data=LEVEL, names=names)
    assert body is not None and teams_problems(body) == []
    title, sentence = body["attachments"][0]["content"]["body"]
    assert title["type"] == "TextBlock" and "evil" not in title["text"]  # markdown: fixed text only
    assert sentence["type"] == "RichTextBlock"
    assert sentence["inlines"][0] == {
        "type": "TextRun", "text": "**Ann** [click](http://evil.example) <at>x</at> reached ",
    }  # fmt: skip


def test_a_long_or_multi_line_name_is_cut_to_one_line() -> None:
    names = Names(reps={"u-1001": "Ann\nExample " + "x" * 300})
    sentence = teams("level.up", LEVEL, names)[1]
    name = sentence.removesuffix(" reached level 3 (320 XP)")
    assert len(name) == NAME_LIMIT and name.startswith("Ann Example xx") and name.endswith("…")


def test_many_winners_with_long_names_stay_within_slacks_limits() -> None:
    names = Names(reps={f"r{i}": "<&>" * 40 for i in range(100)})  # each 120 characters, 480 escaped
    crowd = {
        "contest": {"name": "Everyone ties"},
        "winners": [{"rank": 1, "rep": f"r{i}"} for i in range(100)],
    }
    text = slack_section("contest.ended", crowd, names)  # the validator checks <= 3000
    assert len(text) <= 3000 and text.endswith("more lines")
    assert teams("contest.ended", crowd, names)[-1] == "… and 75 more"


# --- Which events, which names ----------------------------------------------------------------------


@pytest.mark.parametrize("event_type", ["goal.missed", "scores.computed", "contest.started", "nope"])
@pytest.mark.parametrize("format", ["slack", "teams"])
def test_events_a_chat_format_does_not_announce_have_no_body(event_type: str, format: str) -> None:
    assert chat_body(format=format, event_type=event_type, data={"rep": "u-1001"}, names=NAMES) is None


def test_the_json_format_has_no_chat_body() -> None:
    assert chat_body(format="json", event_type="level.up", data=LEVEL, names=NAMES) is None


def test_the_announced_events_are_the_four_of_the_docs() -> None:
    assert CHAT_EVENTS == ("badge.awarded", "level.up", "goal.achieved", "contest.ended")


def test_the_names_looked_up_are_those_the_message_shows() -> None:
    assert names_wanted("badge.awarded", BADGE) == ({"u-1001"}, set())
    assert names_wanted("goal.achieved", TEAM_GOAL) == (set(), {4})
    assert names_wanted("contest.ended", CONTEST) == ({"u-1001", "u-1002", "u-9"}, set())
    assert names_wanted("contest.ended", TEAMS_CONTEST) == (set(), {4, 5, 99})


def test_the_bytes_are_compact_utf8_json() -> None:
    payload = chat_payload(format="slack", event_type="level.up", data=LEVEL, names=NAMES)
    assert payload is not None and "⭐".encode() in payload and b'": "' not in payload
    assert json.loads(payload) == slack("level.up", LEVEL)


# --- The validators refuse what the tools refuse ----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]}, "text:"),
        ({"text": "x", "blocks": [{"type": "paragraph"}]}, "blocks.0:"),
        (
            {"text": "x", "blocks": [{"type": "section", "text": {"type": "markdown", "text": "x"}}]},
            "blocks.0.text",
        ),
        (
            {"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]},
            "3000",
        ),
        (
            {"text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "a<b"}}]},
            "unescaped",
        ),
        ({"text": "x", "blocks": [{"type": "divider"}] * 51}, "blocks:"),
        ({"text": "x", "blocks": []}, "blocks:"),
    ],
)
def test_the_slack_validator_refuses_malformed_messages(body: dict[str, Any], problem: str) -> None:
    assert any(problem in p for p in slack_problems(body)), slack_problems(body)


def _card(**changes: Any) -> dict[str, Any]:
    body = chat_body(format="teams", event_type="level.up", data=LEVEL, names=NAMES)
    assert body is not None
    body = json.loads(json.dumps(body))
    attachment = body["attachments"][0]
    for key, value in changes.items():
        if key in attachment:
            attachment[key] = value
        else:
            attachment["content"][key] = value
    return body


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"text": "hello"}, "type"),
        ({"type": "message", "attachments": []}, "attachments"),
        (_card(contentType="application/vnd.microsoft.card.hero"), "contentType"),
        (_card(version="2.0"), "version"),
        (_card(type="Card"), "content.type"),
        (_card(body=[]), "content.body"),
        (_card(body=[{"type": "Paragraph", "text": "x"}]), "body.0"),
        (_card(body=[{"type": "RichTextBlock", "inlines": [{"type": "Run", "text": "x"}]}]), "inlines.0"),
    ],
)
def test_the_teams_validator_refuses_malformed_messages(body: dict[str, Any], problem: str) -> None:
    assert any(problem in p for p in teams_problems(body)), teams_problems(body)
