"""The daily XP ledger's ``rep_id`` index goes: its primary key (rep, day) serves every
lookup by rep, and every credit paid for the second index."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gamification", "0004_pending_evaluation_queue"),
    ]

    operations = [
        migrations.AlterField(
            model_name="xpdaily",
            name="rep",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="scoring.rep"
            ),
        ),
    ]
