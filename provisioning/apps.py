from __future__ import annotations

from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    """What spans the apps: a tenant made ready to use (config, badges, first key), changes to
    a tenant that its audit log records, the demo tenant, and the database's upkeep."""

    name = "provisioning"
    verbose_name = "Provisioning"

    def ready(self) -> None:
        from provisioning import tasks  # noqa: F401  (registers the tasks beat names)
        from provisioning.exports import EXPORT, export_run
        from scoring import hooks

        hooks.on_job_kind(EXPORT, export_run)
