# The models of API keys, the audit log and rep tokens move here from the apps that created
# their tables (api, gamification). State only: the tables, their rows, constraints and
# indexes stay exactly where they are (db_table keeps their names).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('api', '0002_auditentry'),
        ('gamification', '0007_xpdaily_fillfactor'),
        ('scoring', '0009_scoredday_ranks_current'),
    ]

    state_operations = [
        migrations.CreateModel(
            name='ApiKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('role', models.CharField(choices=[('admin', 'Admin: everything in the tenant'), ('integration', 'Integration: ingest, manage reps and teams, mint rep tokens, read'), ('read', 'Read: read everything')], max_length=16)),
                ('prefix', models.CharField(max_length=16, unique=True)),
                ('key_hash', models.CharField(max_length=64)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('last_used_at', models.DateTimeField(blank=True, null=True)),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'db_table': 'api_apikey',
                'ordering': ['id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('role__in', ['admin', 'integration', 'read'])), name='apikey_role_valid')],
            },
        ),
        migrations.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField()),
                ('actor_kind', models.CharField(choices=[('key', 'A tenant API key'), ('platform', 'A platform key (the operator)'), ('rep', 'A rep token (none of the audited writes allow one)'), ('system', 'No request: a management command, a task or a migration')], max_length=16)),
                ('actor_key_id', models.BigIntegerField(blank=True, null=True)),
                ('actor_prefix', models.CharField(blank=True, max_length=16)),
                ('actor_name', models.CharField(blank=True, max_length=100)),
                ('actor_role', models.CharField(blank=True, max_length=16)),
                ('action', models.CharField(choices=[('create', 'Created'), ('update', 'Updated'), ('delete', 'Deleted'), ('revoke', 'Revoked (API keys)')], max_length=16)),
                ('target_type', models.CharField(choices=[('scoring_config', 'The scoring config (target_id: the new version)'), ('settings', "The tenant's settings (target_id: the tenant's slug)"), ('tenant', 'The tenant itself, changed by the platform (target_id: the slug)'), ('badge', 'A badge definition (target_id: its slug)'), ('goal', 'A goal (target_id: its id)'), ('webhook', 'A webhook subscription (target_id: its id)'), ('api_key', 'An API key (target_id: its id)')], max_length=32)),
                ('target_id', models.CharField(max_length=100)),
                ('before', models.JSONField(blank=True, null=True)),
                ('after', models.JSONField(blank=True, null=True)),
                ('request_id', models.CharField(blank=True, max_length=128)),
            ],
            options={
                'db_table': 'api_auditentry',
                'ordering': ['-id'],
                'indexes': [models.Index(fields=['target_type', 'target_id'], name='auditentry_target'), models.Index(fields=['at'], name='auditentry_at')],
            },
        ),
        migrations.CreateModel(
            name='RepToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('prefix', models.CharField(max_length=16, unique=True)),
                ('key_hash', models.CharField(max_length=64)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('expires_at', models.DateTimeField()),
                ('created_by_key_id', models.BigIntegerField(blank=True, null=True)),
                ('rep', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tokens', to='scoring.rep')),
            ],
            options={
                'db_table': 'gamification_reptoken',
                'indexes': [models.Index(fields=['expires_at'], name='reptoken_expires')],
            },
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations)]
