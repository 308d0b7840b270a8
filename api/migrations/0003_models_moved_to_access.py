# ApiKey and AuditEntry now belong to the access app (access/migrations/0001_initial.py).
# State only: their tables stay as they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0002_auditentry'),
        ('access', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='ApiKey'),
                migrations.DeleteModel(name='AuditEntry'),
            ]
        )
    ]
