# Revoking an API key now revokes the rep tokens it minted; this does the same for the keys
# revoked before, and adds the audit log's target type for an admin's revocation of a rep's
# tokens (a choice: no schema change).

from django.db import migrations, models

REVOKE_TOKENS_OF_REVOKED_KEYS = """
DELETE FROM gamification_reptoken
 WHERE created_by_key_id IN (SELECT id FROM api_apikey WHERE revoked_at IS NOT NULL)
"""


class Migration(migrations.Migration):

    dependencies = [
        ('access', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditentry',
            name='target_type',
            field=models.CharField(choices=[('scoring_config', 'The scoring config (target_id: the new version)'), ('settings', "The tenant's settings (target_id: the tenant's slug)"), ('tenant', 'The tenant itself, changed by the platform (target_id: the slug)'), ('badge', 'A badge definition (target_id: its slug)'), ('goal', 'A goal (target_id: its id)'), ('webhook', 'A webhook subscription (target_id: its id)'), ('api_key', 'An API key (target_id: its id)'), ('rep_tokens', "A rep's rep tokens (target_id: the rep's external_id)")], max_length=32),
        ),
        migrations.RunSQL(REVOKE_TOKENS_OF_REVOKED_KEYS, reverse_sql=migrations.RunSQL.noop),
    ]
