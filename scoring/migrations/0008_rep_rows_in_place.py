"""Rows that every ingest updates in place get room for it, and the reps lose two indexes.

Each ingest batch updates the XP total of every rep it names, and the daily rollup and
XP ledger rows of their day. With full pages (fillfactor 100) most of those updates
could not be HOT: each wrote a new row version on another page and an entry in every
index of the table. A fillfactor of 80 leaves room on each page for the next version
(existing tables follow as their pages are rewritten; new tenants' tables start so).
``scoring_rep`` also drops its ``team_id`` index (``rep_team_active`` (team, active)
serves every lookup by team) and the ``varchar_pattern_ops`` twin of the unique index on
``external_id`` (no LIKE on external ids); the UNIQUE itself stays, under its name.
"""

import django.db.models.deletion
from django.db import migrations, models

FILLFACTOR_TABLES = ("scoring_rep", "scoring_activitydaily")


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0007_rep_rows_without_fk"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="rep",
                    name="external_id",
                    field=models.CharField(max_length=128),
                ),
                migrations.AddConstraint(
                    model_name="rep",
                    constraint=models.UniqueConstraint(fields=("external_id",), name="scoring_rep_external_id_key"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS scoring_rep_external_id_5cefc9b0_like",
                    reverse_sql=(
                        "CREATE INDEX IF NOT EXISTS scoring_rep_external_id_5cefc9b0_like "
                        "ON scoring_rep (external_id varchar_pattern_ops)"
                    ),
                ),
            ],
        ),
        migrations.AlterField(
            model_name="rep",
            name="team",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="reps",
                to="scoring.team",
            ),
        ),
        *(
            migrations.RunSQL(
                f"ALTER TABLE {table} SET (fillfactor = 80)", reverse_sql=f"ALTER TABLE {table} RESET (fillfactor)"
            )
            for table in FILLFACTOR_TABLES
        ),
    ]
