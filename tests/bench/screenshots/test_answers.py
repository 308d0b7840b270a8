"""``make screenshots``' check of a page (``bench.screenshots.answers``): what counts as a page
that answered, and what it prints of one that did not. Its pages against a server:
tests/console/test_catalog.py."""

from __future__ import annotations

from bench.screenshots.answers import Answer, problem_of
from console.catalog import page_get


def test_a_member_page_that_lands_on_sign_in_or_answers_an_error_is_a_problem() -> None:
    reps, login = page_get("reps"), page_get("login")
    assert problem_of(reps, 200, "/console/reps") is None
    assert problem_of(login, 200, "/console/login") is None
    assert problem_of(reps, 200, "/console/login") == "sent to the sign-in page: the session was refused"
    assert problem_of(reps, 404, "/console/reps") == "an error page"
    assert problem_of(reps, 302, "/elsewhere") == "no page (a redirect out of the console)"


def test_a_rep_token_is_never_printed() -> None:
    me = page_get("me")
    url = me.url(token="ssir_Abc123_secret-part")
    answer = Answer(me, url, 404, "/console/me", "an error page")
    assert str(answer) == "me: GET /console/me?token=ssir_…: HTTP 404: an error page"
