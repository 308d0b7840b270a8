"""Indexes every ingested event paid for and no query used: the ``rep_id`` indexes of the
activity and rollup foreign keys (``activity_rep_id`` (rep, -id) and the rollup's primary
key (rep, type, day) serve every lookup by rep), and the ``varchar_pattern_ops`` index that
``unique=True`` adds next to the unique one on ``event_id`` (no LIKE on event ids). The
UNIQUE on ``event_id`` itself stays as it is (``ON CONFLICT (event_id)`` uses it); only its
declaration moves to ``Meta.constraints``, under the name it already has."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0005_job_heartbeat"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="activity",
                    name="event_id",
                    field=models.CharField(max_length=128),
                ),
                migrations.AddConstraint(
                    model_name="activity",
                    constraint=models.UniqueConstraint(fields=("event_id",), name="scoring_activity_event_id_key"),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS scoring_activity_event_id_ebabaa12_like",
                    reverse_sql=(
                        "CREATE INDEX IF NOT EXISTS scoring_activity_event_id_ebabaa12_like "
                        "ON scoring_activity (event_id varchar_pattern_ops)"
                    ),
                ),
            ],
        ),
        migrations.AlterField(
            model_name="activity",
            name="rep",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="activities",
                to="scoring.rep",
            ),
        ),
        migrations.AlterField(
            model_name="activitydaily",
            name="rep",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="scoring.rep"
            ),
        ),
    ]
