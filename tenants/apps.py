from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def check_limit_set_calls_is_safe() -> None:
    """``TENANT_LIMIT_SET_CALLS`` skips ``SET search_path`` while django-tenants believes the
    connection is already on the schema. A ``ROLLBACK TO SAVEPOINT`` undoes a ``SET`` issued
    after the savepoint; a django-tenants that does not forget its cached path then (issue
    1262: no ``savepoint_rollback`` of its own) would run the next queries in another tenant's
    schema without an error. Refuse to start on such a version rather than leak."""
    if not getattr(settings, "TENANT_LIMIT_SET_CALLS", False):
        return
    from django_tenants.postgresql_backend.base import DatabaseWrapper

    if "savepoint_rollback" not in vars(DatabaseWrapper) or "rollback" not in vars(DatabaseWrapper):
        raise ImproperlyConfigured(
            "TENANT_LIMIT_SET_CALLS needs a django-tenants that resets its cached search_path on "
            "rollback and savepoint rollback (issue 1262, fixed in 4.0.1)."
        )


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants"

    def ready(self) -> None:
        check_limit_set_calls_is_safe()
