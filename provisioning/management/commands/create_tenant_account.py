from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import DomainError
from provisioning.tenants import admin_invitation_send, console_url, tenant_create


class Command(BaseCommand):
    help = (
        "Create a tenant (schema, domain, first admin API key and, with --admin-email, the console's first "
        "admin), as POST /api/v1/platform/tenants does."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--timezone", default="UTC", help="IANA time zone (default UTC).")
        parser.add_argument(
            "--admin-email",
            default=None,
            help="The console's first admin member: prints (and emails) their invitation link.",
        )
        parser.add_argument("--json", action="store_true", help="Print JSON with admin_key.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created = tenant_create(
                slug=options["slug"],
                name=options["name"],
                timezone_name=options["timezone"],
                admin_email=options["admin_email"],
            )
        except DomainError as exc:
            raise CommandError(f"{exc.attr or 'error'}: {exc.detail}") from exc
        tenant = created.tenant
        payload: dict[str, Any] = {
            "slug": tenant.slug,
            "name": tenant.name,
            "timezone": tenant.timezone,
            "domains": [d.domain for d in tenant.domains.all()],
            "admin_key": created.admin_key,
            "admin_invite_url": None,
        }
        if created.admin_invitation is not None:
            url = console_url(tenant=tenant, path=f"/console/invite/{created.admin_invitation.token}")
            admin_invitation_send(tenant=tenant, invitation=created.admin_invitation, url=url)
            payload["admin_invite_url"] = url
        if options["json"]:
            self.stdout.write(json.dumps(payload))
            return
        self.stdout.write(f"Tenant {tenant.slug} created on {', '.join(payload['domains'])}.")
        self.stdout.write(f"Admin key (store it now; it is not shown again): {created.admin_key}")
        if payload["admin_invite_url"]:
            self.stdout.write(
                f"Console invitation for the first admin (7 days, once): {payload['admin_invite_url']}"
            )
