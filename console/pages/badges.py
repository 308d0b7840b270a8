"""Badges (``/console/badges``): the definitions with their holders, a form with a criteria
builder to create and edit them, and the awards feed.

Every member reads; managers and admins create, edit and deactivate. Saving calls the badge
service the API calls (``gamification.services.badges``): the same rules, the same errors
(shown next to the field or the criteria row they name), the same audit entry (the member as
actor). The builder and the "Criteria JSON" box post together: the box wins when its text was
changed from the one the page showed, else the rows do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path

from access.models import MemberRole
from console.criteria_builder import (
    COMBINE,
    OPERATORS,
    Builder,
    builder_from_criteria,
    builder_from_form,
    criteria_from_builder,
    criteria_json,
    criteria_words,
    error_place,
    metric_groups,
    metrics_in,
    same_json_text,
)
from console.pages import actor_of_member, console_page, member_of, role_reaches
from core.errors import DomainError
from gamification.models import Badge
from gamification.selectors import award_feed, badges_with_holders
from gamification.services.badges import badge_create, badge_update, known_types

PAGE_SIZE = 50
LIST_TEMPLATE = "console/badges.html"
FORM_TEMPLATE = "console/badges_form.html"
AWARDS_TEMPLATE = "console/badges_awards.html"
NOTICES = {
    "created": "Badge created.",
    "saved": "Badge saved.",
    "deactivated": "Badge deactivated.",
    "activated": "Badge activated.",
}
RESERVED = ("new", "awards")
SHOWN_FIELDS = ("name", "slug", "description", "image_url", "xp_reward", "repeat")
DEFAULT_CRITERIA: dict[str, Any] = {"metric": "events.post_published", "op": ">=", "value": 1}


@dataclass
class BadgeForm:
    """What the badge form shows: the fields as text, the builder, the JSON box, the errors."""

    values: dict[str, Any]
    builder: Builder
    json_text: str
    json_initial: str
    errors: dict[str, str] = field(default_factory=dict)
    json_open: bool = False


def badge_path(badge: Badge) -> str:
    """A badge's page: by its slug, or by its id when the slug is one of this section's own
    pages (a badge may well be called "new")."""
    key = str(badge.pk) if badge.slug in RESERVED else badge.slug
    return f"/console/badges/{key}"


def badge_of(key: str) -> Badge:
    """A badge by its slug, else by its id; 404 when neither is one of this tenant's."""
    badge = Badge.objects.filter(slug=key).first()
    if badge is None and key.isascii() and key.isdigit():
        badge = Badge.objects.filter(pk=int(key)).first()
    if badge is None:
        raise Http404("No such badge.")
    return badge


@console_page()
def badge_list(request: HttpRequest) -> HttpResponse:
    rows = Paginator(badges_with_holders(), PAGE_SIZE).get_page(request.GET.get("page"))
    badges = [{"badge": b, "words": criteria_words(b.criteria), "path": badge_path(b)} for b in rows]
    return render(
        request,
        LIST_TEMPLATE,
        {"page": rows, "badges": badges, "messages_ok": NOTICES.get(request.GET.get("done", ""))},
    )


def _form_for(badge: Badge | None) -> BadgeForm:
    criteria = badge.criteria if badge else DEFAULT_CRITERIA
    text = criteria_json(criteria)
    builder = builder_from_criteria(criteria)
    values = {
        "name": badge.name if badge else "",
        "slug": badge.slug if badge else "",
        "description": badge.description if badge else "",
        "image_url": badge.image_url if badge else "",
        "repeat": badge.repeat if badge else Badge.Repeat.ONCE,
        "xp_reward": str(badge.xp_reward) if badge else "0",
        "active": badge.active if badge else True,
    }
    return BadgeForm(values, builder, text, text, json_open=builder.too_deep)


def _form_posted(request: HttpRequest, badge: Badge | None) -> BadgeForm:
    post = request.POST
    remove = post.get("remove")
    builder = builder_from_form(post, remove=int(remove) if remove and remove.isdigit() else None)
    values: dict[str, Any] = {
        name: post.get(name, "").strip() for name in ("name", "description", "image_url", "repeat")
    }
    values["slug"] = badge.slug if badge else post.get("slug", "").strip()
    values["xp_reward"] = post.get("xp_reward", "").strip()
    values["active"] = post.get("active") == "on"
    text, initial = post.get("criteria_json", ""), post.get("criteria_json_initial", "")
    return BadgeForm(values, builder, text, initial, json_open=not same_json_text(text, initial))


def _whole_number(text: str) -> Any:
    return int(text) if text.isascii() and text.isdigit() else text


def _save(request: HttpRequest, form: BadgeForm, badge: Badge | None) -> Badge | None:
    """Save through the badge service; on a refusal, its error goes on ``form`` and None."""
    values = form.values
    data: dict[str, Any] = {
        "slug": values["slug"],
        "name": values["name"],
        "description": values["description"],
        "image_url": values["image_url"],
        "repeat": values["repeat"],
        "xp_reward": _whole_number(values["xp_reward"]),
        "active": values["active"],
    }
    origin: list[int] = []
    if form.json_open:
        try:
            data["criteria"] = json.loads(form.json_text)
        except ValueError as exc:
            form.errors["criteria_json"] = f"Not valid JSON: {exc}."
            return None
    else:
        data["criteria"], origin = criteria_from_builder(form.builder)
        if not origin:
            form.builder.error = "Give at least one condition."
            return None
    try:
        if badge is None:
            return badge_create(data=data, actor=actor_of_member(request))
        return badge_update(badge=badge, data=data, partial=False, actor=actor_of_member(request))
    except DomainError as exc:
        _place_error(form, exc, origin)
        return None


def _place_error(form: BadgeForm, exc: DomainError, origin: list[int]) -> None:
    attr = exc.attr or ""
    if not attr.startswith("criteria"):
        form.errors[attr if attr in SHOWN_FIELDS else "form"] = exc.detail
    elif form.json_open:
        form.errors["criteria_json"] = f"{attr}: {exc.detail}"
    else:
        place = error_place(attr, origin)
        if place is None:
            form.builder.error = exc.detail
        else:
            row, name = place
            form.builder.rows[row].errors[name] = exc.detail


def _render_form(
    request: HttpRequest, form: BadgeForm, badge: Badge | None, status: int = 200
) -> HttpResponse:
    in_use = [row.metric for row in form.builder.rows]
    if badge is not None:
        in_use += metrics_in(badge.criteria)
    context = {
        "badge": badge,
        "path": badge_path(badge) if badge else "/console/badges/new",
        "form": form,
        "builder": form.builder.padded(),
        "metric_groups": metric_groups(known_types(), keep=in_use),
        "operators": OPERATORS,
        "combine_choices": COMBINE,
        "repeat_choices": Badge.Repeat.values,
        "may_edit": role_reaches(member_of(request), MemberRole.MANAGER),
        "refused": status == 400,
    }
    return render(request, FORM_TEMPLATE, context, status=status)


def _post(request: HttpRequest, badge: Badge | None) -> HttpResponse:
    form = _form_posted(request, badge)
    if "add_row" in request.POST or "remove" in request.POST:
        if "add_row" in request.POST:
            form.builder = form.builder.padded(extra=1)
        return _render_form(request, form, badge)
    saved = _save(request, form, badge)
    if saved is None:
        return _render_form(request, form, badge, status=400)
    done = "created" if badge is None else "saved"
    return HttpResponseRedirect(f"/console/badges?done={done}", status=303)


@console_page(role=MemberRole.MANAGER, methods=("GET", "POST"))
def badge_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _post(request, None)
    return _render_form(request, _form_for(None), None)


@console_page(methods=("GET", "POST"), write_role=MemberRole.MANAGER)
def badge_edit(request: HttpRequest, key: str) -> HttpResponse:
    badge = badge_of(key)
    if request.method == "POST":
        return _post(request, badge)
    return _render_form(request, _form_for(badge), badge)


@console_page(role=MemberRole.MANAGER, methods=("POST",))
def badge_active(request: HttpRequest, key: str) -> HttpResponse:
    """Deactivate (or activate again) a badge: a PATCH of ``active`` through the service."""
    badge = badge_of(key)
    active = request.POST.get("active") == "true"
    badge_update(badge=badge, data={"active": active}, partial=True, actor=actor_of_member(request))
    done = "activated" if active else "deactivated"
    return HttpResponseRedirect(f"/console/badges?done={done}", status=303)


@console_page()
def awards_page(request: HttpRequest) -> HttpResponse:
    """Newest first, 50 a page, by keyset (``before``: the last id of the page before): a feed
    that grows while it is read never repeats or skips an award."""
    awards = award_feed()
    slug = request.GET.get("badge", "")
    if slug:
        awards = awards.filter(badge__slug=slug)
    before = request.GET.get("before", "")
    if before.isascii() and before.isdigit():
        awards = awards.filter(pk__lt=int(before))
    rows = list(awards[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    context = {
        "awards": rows,
        "badge_choices": Badge.objects.order_by("name").values_list("slug", "name"),
        "badge": slug,
        "older": rows[-1].pk if more else None,
        "paged": bool(before),
    }
    return render(request, AWARDS_TEMPLATE, context)


urls = [
    path("badges", badge_list, name="console-badges"),
    path("badges/new", badge_new, name="console-badge-new"),
    path("badges/awards", awards_page, name="console-awards"),
    path("badges/<str:key>", badge_edit, name="console-badge"),
    path("badges/<str:key>/active", badge_active, name="console-badge-active"),
]
