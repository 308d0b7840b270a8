"""The Content-Security-Policy a console page must send, checked from its header.

What issue 17 asks of every console page: no ``unsafe-inline`` or ``unsafe-eval`` anywhere;
scripts, styles and fonts from the page's own host only (``'self'``, or nothing at all);
``frame-ancestors 'none'`` unless a page names who may frame it. Pure functions:
``csp_problems`` lists what is wrong, ``assert_strict_csp`` fails with that list.
"""

from __future__ import annotations

from collections.abc import Iterable

# Each kind of resource with the directives that govern it, most specific first: the first one
# present wins, as in a browser (script-src-elem falls back to script-src, then default-src).
SELF_ONLY = {
    "script-src": ("script-src", "default-src"),
    "script-src-elem": ("script-src-elem", "script-src", "default-src"),
    "script-src-attr": ("script-src-attr", "script-src", "default-src"),
    "style-src": ("style-src", "default-src"),
    "style-src-elem": ("style-src-elem", "style-src", "default-src"),
    "style-src-attr": ("style-src-attr", "style-src", "default-src"),
    "font-src": ("font-src", "default-src"),
}
BASE_KINDS = ("script-src", "style-src", "font-src")
ALLOWED_SOURCES = frozenset({"'self'", "'none'"})


def parse_csp(header: str) -> dict[str, tuple[str, ...]]:
    """Directive name (lower case) -> its sources (keywords in lower case), in header order.

    A repeated directive is kept once, as the browser does (the first); ``csp_problems``
    reports the repeat, which is a mistake in the header."""
    directives: dict[str, tuple[str, ...]] = {}
    for part in header.split(";"):
        tokens = part.split()
        if not tokens:
            continue
        name = tokens[0].lower()
        sources = tuple(t.lower() if t.startswith("'") else t for t in tokens[1:])
        directives.setdefault(name, sources)
    return directives


def _repeated(header: str) -> list[str]:
    names = [p.split()[0].lower() for p in header.split(";") if p.split()]
    return sorted({n for n in names if names.count(n) > 1})


def csp_problems(header: str | None, *, frame_ancestors: Iterable[str] = ("'none'",)) -> list[str]:
    """What keeps ``header`` from being the console's policy; empty when it is.

    ``frame_ancestors``: the exact sources ``frame-ancestors`` must list (any order)."""
    if not header or not header.strip():
        return ["no Content-Security-Policy header"]
    directives = parse_csp(header)
    problems = [f"{name} appears more than once" for name in _repeated(header)]
    for name, sources in directives.items():
        problems += [f"{name} allows {s}" for s in sources if s.startswith("'unsafe-")]
    checked: set[str] = set()
    for kind, chain in SELF_ONLY.items():
        governing = next((d for d in chain if d in directives), None)
        if governing is None:
            if kind in BASE_KINDS:  # an -elem or -attr kind without a directive says nothing more
                problems.append(f"neither {kind} nor default-src is set: any {kind[:-4]} loads")
            continue
        if governing in checked:
            continue
        checked.add(governing)
        others = [
            s for s in directives[governing] if s not in ALLOWED_SOURCES and not s.startswith("'unsafe-")
        ]
        if others:
            problems.append(f"{governing} allows more than 'self': {' '.join(others)}")
    wanted = sorted(s.lower() if s.startswith("'") else s for s in frame_ancestors)
    got = directives.get("frame-ancestors")
    if got is None:
        problems.append("no frame-ancestors (it does not fall back to default-src)")
    elif sorted(got) != wanted:
        problems.append(f"frame-ancestors is {' '.join(got) or '(empty)'}, expected {' '.join(wanted)}")
    return problems


def assert_strict_csp(header: str | None, *, frame_ancestors: Iterable[str] = ("'none'",)) -> None:
    """Fail, listing every problem, unless ``header`` is a console page's policy."""
    problems = csp_problems(header, frame_ancestors=frame_ancestors)
    assert not problems, f"Content-Security-Policy {header!r}: " + "; ".join(problems)
