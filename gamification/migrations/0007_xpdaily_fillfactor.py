"""The XP ledger's rows are updated in place by every ingest: room on each page for HOT
updates (see scoring.0008_rep_rows_in_place)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("gamification", "0006_rep_rows_without_fk"),
    ]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE gamification_xpdaily SET (fillfactor = 80)",
            reverse_sql="ALTER TABLE gamification_xpdaily RESET (fillfactor)",
        ),
    ]
