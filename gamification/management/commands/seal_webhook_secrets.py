"""Seal every webhook secret with the first key of ``SSI_SECRETS_KEY``.

How secrets are sealed: gamification/webhooks/secrets.py.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import tenant_context

from gamification.models import WebhookSubscription
from gamification.webhooks.secrets import SecretUnavailable, keys, secret_reseal
from tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Seal webhook secrets stored in clear, and re-seal those sealed with an older key, with the "
        "first key of SSI_SECRETS_KEY. Safe to run again; run it after setting or rotating the key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="Only this tenant's slug (default: every tenant).")
        parser.add_argument("--json", action="store_true", help="Print a JSON summary.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not keys():
            raise CommandError("SSI_SECRETS_KEY is not set: there is no key to seal with.")
        tenants = Tenant.objects.exclude(schema_name="public").order_by("slug")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        summary: dict[str, dict[str, int]] = {}
        for tenant in tenants:
            sealed = failed = 0
            with tenant_context(tenant):
                for pk, stored in WebhookSubscription.objects.values_list("pk", "secret"):
                    try:
                        new = secret_reseal(stored)
                    except SecretUnavailable:
                        failed += 1  # sealed with a key no longer configured: left as is
                        continue
                    # Conditional: a concurrent change of this row wins, the next run gets it.
                    if new is not None and WebhookSubscription.objects.filter(pk=pk, secret=stored).update(
                        secret=new
                    ):
                        sealed += 1
            summary[tenant.slug] = {"sealed": sealed, "unopenable": failed}
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        else:
            for slug, counts in summary.items():
                self.stdout.write(
                    f"{slug}: {counts['sealed']} sealed, {counts['unopenable']} could not be opened"
                )
        if any(counts["unopenable"] for counts in summary.values()):
            raise CommandError("Some secrets could not be opened with SSI_SECRETS_KEY (an old key missing?).")
