"""Metric values for many reps at once (docs/gamification.md#the-metric-language).

``metrics_load`` answers every metric a set of criteria needs, for a set of
reps, as of a local day, with one set-based query per metric family; rules
are then evaluated in memory. A metric with no value (no snapshot yet) is
None, which makes its criteria leaf false.

The daily rollup is read once for every ``events.*``/``sum.*`` metric and the
streaks together: one scan grouped by rep and 64-day word, each word a bitmask
of the rep's active days (``gamification.rules.streaks.streak_from_mask``),
each metric a filtered sum; ``events.*`` sums each day's count under the
tenant's daily cap of the type (``gamification.fair_play.capped_count_sql``),
``sum.*`` the day's totals as they are. The latest snapshot and the latest row of a state
type are index probes per rep. Reps are selected by id range when their ids
are dense (``scoring.selectors.rep_filter``).

Each (type, window) summed is two columns of the scan: many badges asking for
many of them are read ``SUMS_PER_SCAN`` at a time, one scan each, so that no
statement nears PostgreSQL's limits (1,664 entries in a target list, 65,535
parameters) whatever the tenant's badges. Their usual handful is one scan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

from gamification.fair_play import capped_count_sql
from gamification.rules.criteria import MetricRef
from gamification.rules.levels import level_for
from gamification.rules.streaks import streak_from_mask
from scoring.engine import PILLARS, round2
from scoring.selectors import WORD_BITS, WORD_MASK, aggregate_cursor, latest_states, rep_filter, rep_rows
from tenants.models import Tenant
from tenants.tenant_settings import settings_get

Values = dict[int, dict[MetricRef, float | None]]
Sum = tuple[str, date | None]  # (event type, first day or None for all time)
Totals = dict[int, dict[int, tuple[int, float]]]  # rep -> index of its sum -> (events, total)

# Sums per scan of the rollup: two columns and up to three parameters each.
SUMS_PER_SCAN = 250

SNAPSHOT_COLUMNS = {
    "ssi": "ssi",
    **{f"pillar.{p}": p for p in PILLARS},
    "rank.top_percent": "tenant_top_percent",
    "rank.team_top_percent": "team_top_percent",
}


def metrics_load(
    *,
    tenant: Tenant,
    rep_ids: Sequence[int],
    refs: Iterable[MetricRef],
    day: date,
    period_start: date | None = None,
) -> Values:
    """Values of ``refs`` for ``rep_ids`` as of local ``day``.

    ``events.*``/``sum.*`` count the last ``window_days`` days up to ``day``
    (today included), all time without a window, or from ``period_start``
    when given (a goal's period).
    """
    refs = set(refs)
    out: Values = {rep: {} for rep in rep_ids}
    if not rep_ids or not refs:
        return out
    reps = list(rep_ids)
    names = {ref.name for ref in refs}
    settings = settings_get(tenant)

    if names & SNAPSHOT_COLUMNS.keys():
        _snapshot_metrics(out, reps, refs, day)
    if names & {"xp", "level"}:
        thresholds = settings["level_thresholds"]
        for rep_id, xp in rep_rows("SELECT id, xp FROM scoring_rep WHERE {reps}", reps, "id"):
            for ref in refs:
                if ref.name == "xp":
                    out[rep_id][ref] = float(xp)
                elif ref.name == "level":
                    out[rep_id][ref] = float(level_for(xp, thresholds))
    streaks = bool(names & {"streak.current", "streak.longest"})
    _rollup_metrics(
        out,
        reps,
        refs,
        day,
        period_start,
        settings["streak_mode"] if streaks else None,
        settings["daily_caps"],
    )
    _state_metrics(out, reps, refs, day)
    if "badges" in names:
        counts = dict(
            rep_rows(
                "SELECT rep_id, count(*) FROM gamification_badgeaward WHERE {reps} GROUP BY rep_id", reps
            )
        )
        _fill(out, refs, "badges", counts)
    if "goals.achieved" in names:
        counts = dict(
            rep_rows(
                "SELECT rep_id, count(*) FROM gamification_goal WHERE {reps} AND status = 'achieved' "
                "GROUP BY rep_id",
                reps,
            )
        )
        _fill(out, refs, "goals.achieved", counts)
    return out


def active_day_masks(rep_ids: Sequence[int], day: date) -> dict[int, int]:
    """Each rep's active local days up to ``day`` (a day with any event) as a bitmask: bit
    ``k`` set when the rep was active ``k`` days before ``day``. Reps never active are absent."""
    masks, _ = _rollup_scan(rep_ids, day, sums=[], masks=True, caps={})
    return masks


def _fill(out: Values, refs: set[MetricRef], name: str, counts: dict[int, int]) -> None:
    for ref in refs:
        if ref.name == name:
            for rep_id in out:
                out[rep_id][ref] = float(counts.get(rep_id, 0))


def _snapshot_metrics(out: Values, reps: list[int], refs: set[MetricRef], day: date) -> None:
    """The rep's latest snapshot on or before ``day``; None without one."""
    wanted = [ref for ref in refs if ref.name in SNAPSHOT_COLUMNS]
    columns = sorted({SNAPSHOT_COLUMNS[ref.name] for ref in wanted})
    # One backward probe of (rep_id, day) per rep, however many days of snapshots there are.
    rows = rep_rows(
        f"SELECT r.id, {', '.join(f's.{c}' for c in columns)} FROM scoring_rep r "  # noqa: S608 (fixed column names)
        "CROSS JOIN LATERAL (SELECT * FROM scoring_scoresnapshot s WHERE s.rep_id = r.id "
        "AND s.day <= %(day)s ORDER BY s.day DESC LIMIT 1) s WHERE {reps}",
        reps,
        "r.id",
        {"day": day},
    )
    latest = {row[0]: dict(zip(columns, row[1:], strict=True)) for row in rows}
    for rep_id in reps:
        row = latest.get(rep_id)
        for ref in wanted:
            value = None if row is None else row[SNAPSHOT_COLUMNS[ref.name]]
            if value is not None and not ref.name.startswith("rank."):
                value = round2(value)
            out[rep_id][ref] = None if value is None else float(value)


def _rollup_metrics(
    out: Values,
    reps: list[int],
    refs: set[MetricRef],
    day: date,
    period_start: date | None,
    streak_mode: str | None,
    caps: Mapping[str, int],
) -> None:
    """``events.*`` (under ``caps``)/``sum.*`` over their windows and, given a ``streak_mode``,
    the streaks: one scan."""
    starts: dict[MetricRef, date | None] = {}
    for ref in refs:
        if ref.name.startswith(("events.", "sum.")):
            start = period_start
            if start is None and ref.window_days is not None:
                start = day - timedelta(days=ref.window_days - 1)
            starts[ref] = start
    if not starts and streak_mode is None:
        return
    sums = sorted(
        {(ref.type or "", start) for ref, start in starts.items()}, key=lambda s: (s[0], s[1] or date.min)
    )
    masks, totals = _rollup_scans(reps, day, sums=sums, masks=streak_mode is not None, caps=caps)
    position = {key: index for index, key in enumerate(sums)}
    for ref, start in starts.items():
        index = position[(ref.type or "", start)]
        for rep_id in reps:
            n, total = totals.get(rep_id, {}).get(index, (0, 0.0))
            out[rep_id][ref] = float(n if ref.name.startswith("events.") else total)
    if streak_mode is not None:
        for rep_id in reps:
            s = streak_from_mask(masks.get(rep_id, 0), today=day, mode=streak_mode)
            for ref in refs:
                if ref.name == "streak.current":
                    out[rep_id][ref] = float(s.current)
                elif ref.name == "streak.longest":
                    out[rep_id][ref] = float(s.longest)


def _rollup_scans(
    rep_ids: Sequence[int], day: date, *, sums: list[Sum], masks: bool, caps: Mapping[str, int]
) -> tuple[dict[int, int], Totals]:
    """``_rollup_scan`` of ``sums`` ``SUMS_PER_SCAN`` at a time (the masks with the first), its
    totals indexed into the whole ``sums``."""
    if len(sums) <= SUMS_PER_SCAN:
        return _rollup_scan(rep_ids, day, sums=sums, masks=masks, caps=caps)
    rep_masks: dict[int, int] = {}
    totals: Totals = defaultdict(dict)
    for first in range(0, len(sums), SUMS_PER_SCAN):
        scanned_masks, scanned = _rollup_scan(
            rep_ids, day, sums=sums[first : first + SUMS_PER_SCAN], masks=masks and first == 0, caps=caps
        )
        if first == 0:
            rep_masks = scanned_masks
        for rep_id, by_index in scanned.items():
            totals[rep_id].update((first + index, value) for index, value in by_index.items())
    return rep_masks, dict(totals)


def _rollup_scan(
    rep_ids: Sequence[int], day: date, *, sums: list[Sum], masks: bool, caps: Mapping[str, int]
) -> tuple[dict[int, int], Totals]:
    """One scan of the reps' rollup rows up to ``day``: with ``masks``, each rep's active days
    (see ``active_day_masks``); for each (type, start) of ``sums``, by its index there, each
    rep's ``(sum(n), sum(total))`` of that type from ``start`` (None: all time) to ``day``,
    each day's ``n`` under the type's cap in ``caps`` (if any)."""
    if not rep_ids or (not sums and not masks):
        return {}, {}
    condition, params = rep_filter(rep_ids)
    params["day"] = day
    age = "(%(day)s::date - day)"
    columns = []
    for i, (type_name, start) in enumerate(sums):
        params[f"type_{i}"], params[f"start_{i}"] = type_name, start
        selected = f"type = %(type_{i})s" + (f" AND day >= %(start_{i})s" if start else "")
        count = "n"
        if type_name in caps:
            params[f"cap_{i}"] = caps[type_name]
            count = capped_count_sql("n", f"%(cap_{i})s")
        columns += [f"sum({count}) FILTER (WHERE {selected})", f"sum(total) FILTER (WHERE {selected})"]
    where = f"{condition} AND day <= %(day)s"
    if masks:
        # Rows grouped by rep and word of 64 days: bit (age - 64 * word) of the word.
        word = f"{age} / {WORD_BITS}"
        columns.insert(0, f"bit_or(1::bigint << ({age} - {WORD_BITS} * ({word})))")
    else:
        word = "0"
        params["types"] = sorted({type_name for type_name, _ in sums})
        where += " AND type = ANY(%(types)s)"
        if all(start is not None for _, start in sums):
            params["first"] = min(start for _, start in sums if start is not None)
            where += " AND day >= %(first)s"
    wanted = set(rep_ids)
    rep_masks: dict[int, int] = defaultdict(int)
    totals: Totals = defaultdict(dict)
    with aggregate_cursor(len(rep_ids)) as cursor:
        cursor.execute(
            f"SELECT rep_id, {word}, {', '.join(columns)} FROM scoring_activitydaily "  # noqa: S608 (fixed fragments)
            f"WHERE {where} GROUP BY 1, 2",
            params,
        )
        for rep_id, word_index, *values in cursor.fetchall():
            if rep_id not in wanted:
                continue
            if masks:
                rep_masks[rep_id] |= (values.pop(0) & WORD_MASK) << (WORD_BITS * word_index)
            rep_totals = totals[rep_id]
            for i in range(len(sums)):
                n, total = values[2 * i], values[2 * i + 1]
                if n is not None:
                    before_n, before_total = rep_totals.get(i, (0, 0.0))
                    rep_totals[i] = (before_n + n, before_total + total)
    return dict(rep_masks), dict(totals)


def _state_metrics(out: Values, reps: list[int], refs: set[MetricRef], day: date) -> None:
    wanted = [ref for ref in refs if ref.name.startswith("state.")]
    if not wanted:
        return
    latest = latest_states(reps, {ref.type for ref in wanted if ref.type}, day)
    for rep_id in reps:
        for ref in wanted:
            state = latest.get(rep_id, {}).get(ref.type or "")
            out[rep_id][ref] = state.value if state is not None else 0.0
