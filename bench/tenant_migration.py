"""The bench's "real migration" (phase ``tenants_at_scale``): a new column with a default and an
index on a tenant table, as a product migration would add them.

It exists only here: no app's migration module holds it, and ``manage.py migrate_tenants
--extra bench.tenant_migration --slug-prefix bench-t`` inserts it into the graph for that run
alone, so it is applied (and recorded in ``django_migrations``) in the bench's own tenant
schemas only, which the run drops at its end. The template and every other tenant never
see it. It goes through Django's schema editor like any migration: ``ADD COLUMN … DEFAULT 0
NOT NULL``, ``ALTER COLUMN … DROP DEFAULT``, ``CREATE INDEX``, on ``scoring_rep`` with its rows.
"""

from __future__ import annotations

from django.db import migrations, models

APP_LABEL = "scoring"  # a tenant app: django-tenants' router runs only those in a tenant schema
NAME = "bench_rep_tier"


class Migration(migrations.Migration):
    operations = [
        migrations.AddField(
            model_name="rep",
            name="bench_tier",
            field=models.IntegerField(default=0, db_index=True),
        ),
    ]
