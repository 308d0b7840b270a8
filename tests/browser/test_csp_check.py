"""The console's CSP check (``tests.support.csp``) on hand-written headers: pure, no browser."""

from __future__ import annotations

import pytest

from api.middleware import CSP_API, CSP_DOCS
from tests.support.csp import assert_strict_csp, csp_problems, parse_csp

CONSOLE = (
    "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def test_a_console_policy_passes() -> None:
    assert csp_problems(CONSOLE) == []
    assert_strict_csp(CONSOLE)


def test_the_apis_own_policy_passes_as_it_loads_nothing() -> None:
    assert csp_problems(CSP_API) == []


def test_the_swagger_ui_policy_fails_on_its_inline_styles() -> None:
    assert csp_problems(CSP_DOCS) == ["style-src allows 'unsafe-inline'"]


def test_parse_keeps_the_first_of_a_repeated_directive_and_lowercases_names_and_keywords() -> None:
    parsed = parse_csp("Script-Src 'SELF' https://Cdn.example;; script-src *; frame-ancestors 'none' ")
    assert parsed == {"script-src": ("'self'", "https://Cdn.example"), "frame-ancestors": ("'none'",)}


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (
            CONSOLE.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'"),
            "script-src allows 'unsafe-inline'",
        ),
        (
            CONSOLE.replace("script-src 'self'", "script-src 'self' 'unsafe-eval'"),
            "script-src allows 'unsafe-eval'",
        ),
        (
            CONSOLE.replace("img-src 'self' data:", "img-src 'unsafe-inline'"),
            "img-src allows 'unsafe-inline'",
        ),
        (
            CONSOLE.replace("script-src 'self'", "script-src 'self' https://cdn.example"),
            "script-src allows more than 'self': https://cdn.example",
        ),
        (CONSOLE.replace("font-src 'self'", "font-src data:"), "font-src allows more than 'self': data:"),
        (
            CONSOLE + "; style-src-elem 'self' https://fonts.example",
            "style-src-elem allows more than 'self': https://fonts.example",
        ),
        (
            "script-src 'self'; style-src 'self'; frame-ancestors 'none'",
            "neither font-src nor default-src is set: any font loads",
        ),
        (
            CONSOLE.replace("; frame-ancestors 'none'", ""),
            "no frame-ancestors (it does not fall back to default-src)",
        ),
        (
            CONSOLE.replace("frame-ancestors 'none'", "frame-ancestors 'self'"),
            "frame-ancestors is 'self', expected 'none'",
        ),
        (CONSOLE + "; script-src *", "script-src appears more than once"),
        ("", "no Content-Security-Policy header"),
    ],
)
def test_a_policy_that_is_not_the_consoles_is_refused_with_the_reason(header: str, problem: str) -> None:
    assert problem in csp_problems(header)
    with pytest.raises(AssertionError, match="Content-Security-Policy"):
        assert_strict_csp(header)


def test_default_src_self_covers_scripts_styles_and_fonts() -> None:
    assert csp_problems("default-src 'self'; frame-ancestors 'none'") == []


def test_default_src_wider_than_self_is_refused_for_each_kind_once() -> None:
    assert csp_problems("default-src *; frame-ancestors 'none'") == ["default-src allows more than 'self': *"]


def test_frame_ancestors_may_list_a_pages_embedding_origins_in_any_order() -> None:
    header = CONSOLE.replace("frame-ancestors 'none'", "frame-ancestors https://b.example https://a.example")
    assert csp_problems(header, frame_ancestors=["https://a.example", "https://b.example"]) == []
    assert csp_problems(header) == ["frame-ancestors is https://b.example https://a.example, expected 'none'"]
