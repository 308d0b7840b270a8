# RepToken now belongs to the access app (access/migrations/0001_initial.py).
# State only: its table stays as it is.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('gamification', '0007_xpdaily_fillfactor'),
        ('access', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name='RepToken')])
    ]
