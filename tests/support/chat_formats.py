"""What Slack and Microsoft Teams incoming webhooks accept, as small validators.

Written from the tools' published limits, independently of the product's renderers
(gamification/webhooks/chat.py): each returns the list of problems (empty: accepted).
``Receiver.validate`` takes one, so a local receiver answers 400 with the problems, as
the real endpoints answer a malformed message (Slack: ``400 invalid_blocks``).

Slack (Block Kit, incoming webhooks): a JSON object with a non-empty ``text`` (the
notification fallback) and ``blocks``: at most 50, each with a known ``type``; a
``section`` has a text object ``{"type": "mrkdwn" | "plain_text", "text": 1-3000
characters}`` (or ``fields``); a ``header`` plain text up to 150; a ``context`` up to 10
elements. We never send links or mentions, so a raw ``<`` or ``>``, or an ``&`` that opens
no ``&amp;``, ``&lt;`` or ``&gt;``, in mrkdwn is an escaping bug and counted as one.

Teams (incoming webhook, Workflows or connector): ``{"type": "message", "attachments":
[{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null,
"content": <an AdaptiveCard>}]}``; the card has the Adaptive Card ``$schema``, ``type``
``AdaptiveCard``, a ``version`` Teams renders (1.0 to 1.5) and a non-empty ``body`` of
elements each with a known ``type`` (a ``TextBlock`` with ``text``, a ``RichTextBlock``
with ``TextRun`` inlines, ...); the message is at most 28 KB.
"""

from __future__ import annotations

import json
import re
from typing import Any

SLACK_BLOCK_TYPES = {
    "actions", "context", "divider", "file", "header", "image", "input", "markdown", "rich_text", "section",
    "video",
}  # fmt: skip
SLACK_TOP_LEVEL = {
    "text", "blocks", "attachments", "thread_ts", "mrkdwn", "username", "icon_emoji", "icon_url", "channel",
    "unfurl_links", "unfurl_media",
}  # fmt: skip
SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION_TEXT = 3000
SLACK_MAX_HEADER_TEXT = 150
_BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")

TEAMS_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
TEAMS_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
TEAMS_VERSIONS = {"1.0", "1.1", "1.2", "1.3", "1.4", "1.5"}
TEAMS_ELEMENT_TYPES = {
    "TextBlock", "RichTextBlock", "FactSet", "ColumnSet", "Container", "Image", "ImageSet", "ActionSet",
    "Table",
}  # fmt: skip
TEAMS_WEIGHTS = {"Default", "Lighter", "Bolder"}
TEAMS_SIZES = {"Default", "Small", "Medium", "Large", "ExtraLarge"}
TEAMS_MAX_BYTES = 28 * 1024


def _json(body: bytes | dict[str, Any]) -> tuple[Any, list[str]]:
    if isinstance(body, dict):
        return body, []
    try:
        return json.loads(body), []
    except ValueError as exc:
        return None, [f"not JSON: {exc}"]


# --- Slack ------------------------------------------------------------------------------------------


def _slack_text(obj: Any, where: str, *, limit: int, plain_only: bool = False) -> list[str]:
    kinds = {"plain_text"} if plain_only else {"plain_text", "mrkdwn"}
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        return [f"{where}: a text object of type {' or '.join(sorted(kinds))}"]
    problems = []
    extra = set(obj) - {"type", "text", "emoji", "verbatim"}
    if extra:
        problems.append(f"{where}: unknown keys {sorted(extra)}")
    text = obj.get("text")
    if not isinstance(text, str) or not 1 <= len(text) <= limit:
        problems.append(f"{where}.text: a string of 1 to {limit} characters")
    elif obj["type"] == "mrkdwn" and (set(text) & {"<", ">"} or _BARE_AMPERSAND.search(text)):
        problems.append(f"{where}.text: unescaped <, > or & in mrkdwn: {text!r}")
    return problems


def _slack_block(block: Any, where: str) -> list[str]:
    if not isinstance(block, dict) or block.get("type") not in SLACK_BLOCK_TYPES:
        return [f"{where}: an object whose type is a Block Kit block type"]
    kind = block["type"]
    if kind == "section":
        if "text" not in block and "fields" not in block:
            return [f"{where}: a section needs text or fields"]
        problems = []
        if "text" in block:
            problems += _slack_text(block["text"], f"{where}.text", limit=SLACK_MAX_SECTION_TEXT)
        for i, item in enumerate(block.get("fields", [])):
            problems += _slack_text(item, f"{where}.fields.{i}", limit=2000)
        return problems
    if kind == "header":
        return _slack_text(block.get("text"), f"{where}.text", limit=SLACK_MAX_HEADER_TEXT, plain_only=True)
    if kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
            return [f"{where}.elements: 1 to 10 elements"]
        return [
            problem
            for i, element in enumerate(elements)
            if not (isinstance(element, dict) and element.get("type") == "image")
            for problem in _slack_text(element, f"{where}.elements.{i}", limit=SLACK_MAX_SECTION_TEXT)
        ]
    return []


def slack_problems(body: bytes | dict[str, Any]) -> list[str]:
    """Why a Slack incoming webhook would refuse ``body`` (empty: it would post it)."""
    message, problems = _json(body)
    if problems:
        return problems
    if not isinstance(message, dict):
        return ["the body is a JSON object"]
    extra = set(message) - SLACK_TOP_LEVEL
    if extra:
        problems.append(f"unknown top-level keys {sorted(extra)}")
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append("text: a non-empty string (the notification fallback)")
    elif set(text) & {"<", ">"} or _BARE_AMPERSAND.search(text):
        problems.append(f"text: unescaped <, > or &: {text!r}")
    blocks = message.get("blocks")
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= SLACK_MAX_BLOCKS:
        problems.append(f"blocks: a list of 1 to {SLACK_MAX_BLOCKS} blocks")
        return problems
    for index, block in enumerate(blocks):
        problems += _slack_block(block, f"blocks.{index}")
    return problems


# --- Microsoft Teams --------------------------------------------------------------------------------


def _teams_element(element: Any, where: str) -> list[str]:
    if not isinstance(element, dict) or element.get("type") not in TEAMS_ELEMENT_TYPES:
        return [f"{where}: an element whose type is an Adaptive Card element type"]
    problems = []
    if element.get("weight", "Default") not in TEAMS_WEIGHTS:
        problems.append(f"{where}.weight: one of {sorted(TEAMS_WEIGHTS)}")
    if element.get("size", "Default") not in TEAMS_SIZES:
        problems.append(f"{where}.size: one of {sorted(TEAMS_SIZES)}")
    if element["type"] == "TextBlock" and not (isinstance(element.get("text"), str) and element["text"]):
        problems.append(f"{where}.text: a non-empty string")
    if element["type"] == "RichTextBlock":
        inlines = element.get("inlines")
        if not isinstance(inlines, list) or not inlines:
            return [*problems, f"{where}.inlines: a non-empty list"]
        for i, run in enumerate(inlines):
            if isinstance(run, str):
                continue
            if (
                not isinstance(run, dict)
                or run.get("type") != "TextRun"
                or not isinstance(run.get("text"), str)
            ):
                problems.append(f"{where}.inlines.{i}: a TextRun with text")
            elif run.get("weight", "Default") not in TEAMS_WEIGHTS:
                problems.append(f"{where}.inlines.{i}.weight: one of {sorted(TEAMS_WEIGHTS)}")
    return problems


def teams_problems(body: bytes | dict[str, Any]) -> list[str]:
    """Why a Teams incoming webhook would refuse ``body`` (empty: it would post the card)."""
    message, problems = _json(body)
    if problems:
        return problems
    if isinstance(body, bytes) and len(body) > TEAMS_MAX_BYTES:
        problems.append(f"the message is {len(body)} bytes; at most {TEAMS_MAX_BYTES}")
    if not isinstance(message, dict) or message.get("type") != "message":
        return [*problems, 'type: "message"']
    attachments = message.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        return [*problems, "attachments: a non-empty list"]
    for index, attachment in enumerate(attachments):
        where = f"attachments.{index}"
        if not isinstance(attachment, dict):
            problems.append(f"{where}: an object")
            continue
        if attachment.get("contentType") != TEAMS_CARD_CONTENT_TYPE:
            problems.append(f"{where}.contentType: {TEAMS_CARD_CONTENT_TYPE}")
        if "contentUrl" not in attachment or attachment["contentUrl"] is not None:
            problems.append(f"{where}.contentUrl: null")
        card = attachment.get("content")
        if not isinstance(card, dict):
            problems.append(f"{where}.content: an Adaptive Card object")
            continue
        if card.get("$schema") != TEAMS_CARD_SCHEMA:
            problems.append(f"{where}.content.$schema: {TEAMS_CARD_SCHEMA}")
        if card.get("type") != "AdaptiveCard":
            problems.append(f'{where}.content.type: "AdaptiveCard"')
        if card.get("version") not in TEAMS_VERSIONS:
            problems.append(f"{where}.content.version: one of {sorted(TEAMS_VERSIONS)}")
        elements = card.get("body")
        if not isinstance(elements, list) or not elements:
            problems.append(f"{where}.content.body: a non-empty list of elements")
            continue
        for i, element in enumerate(elements):
            problems += _teams_element(element, f"{where}.content.body.{i}")
    return problems


def teams_text(body: bytes | dict[str, Any]) -> list[str]:
    """The card's lines as a person reads them (the text of each TextBlock, the joined runs of
    each RichTextBlock)."""
    message, _ = _json(body)
    lines = []
    for element in message["attachments"][0]["content"]["body"]:
        if element["type"] == "TextBlock":
            lines.append(element["text"])
        elif element["type"] == "RichTextBlock":
            lines.append("".join(run if isinstance(run, str) else run["text"] for run in element["inlines"]))
    return lines
