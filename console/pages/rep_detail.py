"""One rep's page, shared by the reps section (``/console/reps/<id>``, members) and a rep's
own page (``/console/me``, a rep token's session): what ``_rep_detail.html`` renders."""

from __future__ import annotations

from scoring.models import Rep


def rep_detail_context(rep: Rep) -> dict[str, object]:
    """Everything ``_rep_detail.html`` shows of ``rep`` (to be filled: SSI trend and
    pillars, explanation, recommendations, badges, goals, streak calendar)."""
    return {"rep": rep}
