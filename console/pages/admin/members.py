"""Members (``/console/members``, admins): the people who sign in, an invitation (its link shown
once and emailed), a member's page to change their role, send a new invitation or remove them.
The same services as ``/api/v1/members``; the last active admin is kept (``last_admin``)."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from access.members import (
    Invitation,
    invitation_email_send,
    member_delete,
    member_invite,
    member_reinvite,
    member_update,
)
from access.models import Member, MemberRole
from api.v1.members import invite_url
from console.pages import actor_of_member, console_page, member_of
from console.pages.admin.common import SeeOther, done, errors_of, field_errors, notice_of, template
from core.errors import DomainError

HOME = "/console/members"
ROLE_CHOICES = [
    (MemberRole.VIEWER, "viewer: reads"),
    (MemberRole.MANAGER, "manager: reads everything; manages goals and badges"),
    (MemberRole.ADMIN, "admin: everything in the tenant"),
]
NOTICES = {
    "role": "Role changed.",
    "removed": "Member removed: their sessions ended at once.",
}


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254)
    name = forms.CharField(max_length=200, required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)


def _member(member_id: int) -> Member:
    member = Member.objects.filter(pk=member_id).first()
    if member is None:
        raise Http404("No such member")
    return member


def _sent(request: HttpRequest, invitation: Invitation, *, fresh: bool) -> HttpResponse:
    """The invitation link, shown this once and emailed (as the API answers it)."""
    url = invite_url(request, invitation.token)
    invitation_email_send(member=invitation.member, url=url)
    context = {"invited": invitation.member, "url": url, "fresh": fresh}
    return render(request, template("member_invited"), context, status=201)


@console_page(role=MemberRole.ADMIN, methods=("GET", "POST"))
def members(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                invitation = member_invite(**form.cleaned_data, actor=actor_of_member(request))
            except DomainError as error:
                field_errors(form, error, ("email", "name", "role"))
            else:
                return _sent(request, invitation, fresh=False)
        status = 400
    context = {
        "members": list(Member.objects.order_by("email")),
        "errors": errors_of(form),
        "values": {key: request.POST.get(key, "") for key in ("email", "name", "role")},
        "role_choices": ROLE_CHOICES,
        "messages_ok": notice_of(request, NOTICES),
    }
    return render(request, template("members"), context, status=status)


def _page(
    request: HttpRequest, member: Member, *, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "subject": member,
        "is_me": member.pk == member_of(request).pk,
        "errors": errors or {},
        "role_choices": ROLE_CHOICES,
        "messages_ok": notice_of(request, NOTICES),
    }
    return render(request, template("member"), context, status=status)


@console_page(role=MemberRole.ADMIN, methods=("GET", "POST"))
def member(request: HttpRequest, member_id: int) -> HttpResponse:
    """A member's page; its form changes their role."""
    subject = _member(member_id)
    if request.method == "GET":
        return _page(request, subject)
    form = RoleForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            member_update(member=subject, changes=form.cleaned_data, actor=actor_of_member(request))
        except DomainError as error:
            field_errors(form, error, ("role",))
            status = error.status
        else:
            if subject.pk == member_of(request).pk and subject.role != MemberRole.ADMIN:
                return SeeOther("/console/")  # no longer an admin: this page is not theirs any more
            return done(f"{HOME}/{subject.pk}", "role")
    subject.refresh_from_db()
    return _page(request, subject, errors=errors_of(form), status=status)


@console_page(role=MemberRole.ADMIN, methods=("POST",))
def member_invite_again(request: HttpRequest, member_id: int) -> HttpResponse:
    subject = _member(member_id)
    invitation = member_reinvite(member_id=subject.pk, actor=actor_of_member(request))
    return _sent(request, invitation, fresh=True)


@console_page(role=MemberRole.ADMIN, methods=("GET", "POST"))
def member_remove(request: HttpRequest, member_id: int) -> HttpResponse:
    subject = _member(member_id)
    is_me = subject.pk == member_of(request).pk
    error = ""
    if request.method == "POST":
        try:
            member_delete(member=subject, actor=actor_of_member(request))
        except DomainError as refused:
            error = refused.detail
        else:
            if is_me:  # removed themselves: their session is gone too
                return SeeOther("/console/login")
            return done(HOME, "removed")
    context = {"subject": subject, "error": error, "is_me": is_me}
    return render(request, template("member_remove"), context, status=409 if error else 200)


urls = [
    path("members", members, name="console-members"),
    path("members/<int:member_id>", member, name="console-member"),
    path("members/<int:member_id>/invite", member_invite_again, name="console-member-invite"),
    path("members/<int:member_id>/remove", member_remove, name="console-member-remove"),
]
