from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from provisioning.demo import demo_ensure


class Command(BaseCommand):
    help = (
        "Create the demo tenant with sample data if missing, and mint fresh demo keys (used by `make run`)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--json", action="store_true", help="Print {platform_key, demo_admin_key} as JSON."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        keys = demo_ensure()
        if options["json"]:
            self.stdout.write(
                json.dumps({"platform_key": keys.platform_key, "demo_admin_key": keys.demo_admin_key})
            )
            return
        self.stdout.write(f"platform key:   {keys.platform_key}")
        self.stdout.write(f"demo admin key: {keys.demo_admin_key}")
