"""The company's and each team's SSI of a day (``SsiSummary``), computed in SQL from the
day's snapshots.

Every writer of a day's snapshots calls ``ssi_summaries_refresh`` in the same
transaction, so a day's summaries always describe the snapshots stored for it. Migration
0011 carries a copy of ``SUMMARIES_SQL`` to fill the days scored before it existed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from core.db import connection, statements_execute

# Over the active reps with a snapshot on each day (as of this statement), and the erased reps
# with one (an erasure keeps a rep's past counted; docs/security.md#erasing-a-rep): the company
# (GROUPING(team_id) = 1) and each team the snapshots name; reps without a team count in
# the company only. Each rep's SSI and pillars are taken as the API shows them, rounded to
# 2 decimals half away from zero, as whole cents: scores are never negative, so that is
# floor(100 x + 0.5), and the 1e-9 absorbs binary noise (2.675 is 2.67499999… in binary and
# shows as 2.68), as scoring.engine.round2 does. Integers rather than numeric conversions,
# which cost most of the statement. Means are exact (avg of integers is numeric) and rounded half
# away from zero by numeric ``round``; the median is the mean of the lower and upper middle
# values (one and the same for an odd count).
SUMMARIES_SQL = """
WITH s AS (
    SELECT s.day, s.team_id,
           floor(s.ssi * 100 + 0.5 + 1e-9)::bigint AS ssi,
           floor(s.brand * 100 + 0.5 + 1e-9)::bigint AS brand,
           floor(s.find * 100 + 0.5 + 1e-9)::bigint AS find,
           floor(s.engage * 100 + 0.5 + 1e-9)::bigint AS engage,
           floor(s.relationships * 100 + 0.5 + 1e-9)::bigint AS relationships
      FROM scoring_scoresnapshot s JOIN scoring_rep r ON r.id = s.rep_id
     WHERE (r.active OR r.erased_at IS NOT NULL) {days}
)
INSERT INTO scoring_ssisummary
    (day, team_id, reps, mean, median, brand, find, engage, relationships, good, okay, poor)
SELECT day,
       CASE WHEN GROUPING(team_id) = 1 THEN NULL ELSE team_id END,
       count(*),
       round(avg(ssi) / 100, 2),
       round((percentile_disc(0.5) WITHIN GROUP (ORDER BY ssi)
              + percentile_disc(0.5) WITHIN GROUP (ORDER BY ssi DESC)) / 200.0, 2),
       round(avg(brand) / 100, 2), round(avg(find) / 100, 2), round(avg(engage) / 100, 2),
       round(avg(relationships) / 100, 2),
       count(*) FILTER (WHERE ssi >= 7000),
       count(*) FILTER (WHERE ssi >= 4000 AND ssi < 7000),
       count(*) FILTER (WHERE ssi < 4000)
  FROM s
 GROUP BY GROUPING SETS ((day), (day, team_id))
HAVING GROUPING(team_id) = 1 OR team_id IS NOT NULL
"""


_REFRESH_SQL = (  # noqa: S608 (fixed fragments)
    "SELECT pg_advisory_xact_lock(hashtextextended('ssi-summaries:' || %s, 0)); "
    "DELETE FROM scoring_ssisummary WHERE day = ANY(%s::date[]); "
) + SUMMARIES_SQL.format(days="AND s.day = ANY(%s::date[])")


def ssi_summaries_refresh(*, days: Sequence[date]) -> None:
    """Replace the company's and the teams' summaries of ``days`` with what their snapshots
    say now. Call it in the transaction that wrote (or deleted) the snapshots."""
    if not days:
        return
    day_list = sorted(set(days))
    with connection.cursor() as cursor:
        # One refresh at a time per schema, until commit: a recompute and a rep's deletion
        # refreshing the same day would otherwise both insert its rows (a unique violation).
        # The lock, the DELETE and the INSERT in one round trip.
        statements_execute(cursor, _REFRESH_SQL, [connection.schema_name, day_list, day_list])
