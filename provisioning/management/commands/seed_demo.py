from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from provisioning.demo import DEMO_ADMIN_EMAIL, demo_ensure


class Command(BaseCommand):
    help = (
        "Create the demo tenant with sample data if missing, and mint fresh demo keys and a fresh console "
        "invitation of its admin member (used by `make run`)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print {platform_key, demo_admin_key, demo_admin_email, demo_admin_invite} as JSON.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        keys = demo_ensure()
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "platform_key": keys.platform_key,
                        "demo_admin_key": keys.demo_admin_key,
                        "demo_admin_email": DEMO_ADMIN_EMAIL,
                        "demo_admin_invite": keys.admin_invite_token,
                    }
                )
            )
            return
        self.stdout.write(f"platform key:   {keys.platform_key}")
        self.stdout.write(f"demo admin key: {keys.demo_admin_key}")
        self.stdout.write(f"demo admin's console invitation: /console/invite/{keys.admin_invite_token}")
