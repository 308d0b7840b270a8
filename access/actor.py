"""Who makes a change, as the audit log records it.

The HTTP layer builds an ``Actor`` from the authenticated request
(``api.actors.actor_of``) and passes it down to every service that audits;
commands, tasks and provisioning pass ``SYSTEM``. Nothing below the HTTP
layer looks at a request.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    kind: str  # "key" | "platform" | "rep" | "system" (AuditEntry.ActorKind)
    key_id: int | None = None  # the ApiKey's, PlatformKey's or RepToken's id
    prefix: str = ""  # the key's public prefix: it names the key without revealing it
    name: str = ""
    role: str = ""
    request_id: str = ""  # the X-Request-ID of the request that made the change


SYSTEM = Actor(kind="system")
