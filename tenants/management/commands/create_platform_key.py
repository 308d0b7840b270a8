from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tenants.services import platform_key_create


class Command(BaseCommand):
    help = "Create a platform key (manages tenants on the platform host). The key is printed once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default="platform", help="A label for the key.")
        parser.add_argument("--json", action="store_true", help="Print JSON: {id, name, prefix, key}.")

    def handle(self, *args: Any, **options: Any) -> None:
        created = platform_key_create(name=options["name"])
        if options["json"]:
            payload = {
                "id": created.key.pk,
                "name": created.key.name,
                "prefix": created.key.prefix,
                "key": created.token,
            }
            self.stdout.write(json.dumps(payload))
            return
        self.stdout.write(f"Platform key {created.key.name!r} (store it now; it is not shown again):")
        self.stdout.write(created.token)
