"""The event catalog, pillar order and default tip texts (docs/scoring.md#events)."""

from __future__ import annotations

from types import MappingProxyType

PILLARS: tuple[str, ...] = ("brand", "find", "engage", "relationships")

PILLAR_NAMES = MappingProxyType(
    {
        "brand": "Establish your professional brand",
        "find": "Find the right people",
        "engage": "Engage with insights",
        "relationships": "Build relationships",
    }
)

# type -> (meaning, default XP)
EVENT_TYPES = MappingProxyType(
    {
        "profile_updated": ("Profile completeness changed; value = completeness 0..100", 5),
        "post_published": ("Rep published a post", 10),
        "article_published": ("Rep published a long-form article", 25),
        "endorsement_received": ("Rep received an endorsement", 3),
        "recommendation_received": ("Rep received a written recommendation", 10),
        "follower_gained": ("Rep gained followers; value = how many", 1),
        "people_search": ("Rep ran a people search", 1),
        "profile_viewed": ("Rep viewed a prospect's profile", 1),
        "lead_saved": ("Rep saved a lead", 3),
        "post_liked": ("Rep reacted to someone's post", 1),
        "post_commented": ("Rep commented on someone's post", 3),
        "post_shared": ("Rep shared someone's post", 3),
        "message_sent": ("Rep sent a message", 1),
        "message_received": ("Rep received a message that expects a reply", 0),
        "message_replied": ("Rep replied to a received message", 2),
        "group_joined": ("Rep joined a group", 5),
        "connection_request_sent": ("Rep sent a connection request", 1),
        "connection_request_accepted": ("A request the rep sent was accepted", 5),
        "connections_synced": ("Total connections now; value = the total", 0),
        "decision_maker_connected": ("Rep connected with a decision maker", 10),
    }
)

DEFAULT_XP = MappingProxyType({name: xp for name, (_, xp) in EVENT_TYPES.items()})

# Tip texts shown with recommendations, by signal key. A tenant may override
# any of them with a signal's "tip" in its scoring config.
DEFAULT_TIPS = MappingProxyType(
    {
        "profile_completeness": "Complete your profile: photo, headline, summary and experience.",
        "posts": "Publish a short post every week about what your customers care about.",
        "articles": "Write a long-form article sharing an insight from your market.",
        "endorsements": "Ask happy customers and colleagues for endorsements and recommendations.",
        "followers": "Post consistently and engage with others to grow your followers.",
        "searches": "Run targeted people searches for your ideal buyers.",
        "profile_views": "View the profiles of prospects before reaching out.",
        "leads_saved": "Save promising prospects as leads to follow them.",
        "active_days": "Log in and do something useful every working day.",
        "reactions": "React to your prospects' and customers' posts.",
        "comments": "Leave thoughtful comments on posts in your market.",
        "shares": "Share relevant posts with a line on why they matter.",
        "messages": "Send personal messages to prospects and customers.",
        "response_rate": "Reply to the messages you receive, and quickly.",
        "groups": "Join groups where your buyers discuss their problems.",
        "connections": "Grow your network: connect with people you meet.",
        "acceptance_rate": "Personalise connection requests so more are accepted.",
        "decision_makers": "Connect with decision makers at your target accounts.",
    }
)

GENERIC_TIPS = MappingProxyType(
    {
        "count": "Do more of: {types}.",
        "state": "Improve: {types}.",
        "ratio": "Raise the ratio of {numerator} to {denominator}.",
        "active_days": "Be active on more days.",
    }
)
