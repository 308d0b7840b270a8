"""The evaluation queue becomes appended rows (one per ingest transaction), carrying over
the reps queued at migration time."""

from django.contrib.postgres.fields import ArrayField
from django.db import migrations, models
from django.utils import timezone


class Migration(migrations.Migration):
    dependencies = [
        ("gamification", "0003_webhook_breaker"),
    ]

    operations = [
        migrations.RenameModel("PendingEvaluation", "PendingEvaluationOld"),
        migrations.CreateModel(
            name="PendingEvaluation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("rep_ids", ArrayField(base_field=models.BigIntegerField(), size=None)),
                ("queued_at", models.DateTimeField(default=timezone.now)),
            ],
        ),
        migrations.RunSQL(
            """
            INSERT INTO gamification_pendingevaluation (rep_ids, queued_at)
            SELECT array_agg(rep_id ORDER BY rep_id), min(queued_at)
              FROM gamification_pendingevaluationold HAVING count(*) > 0
            """,
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.DeleteModel("PendingEvaluationOld"),
    ]
