from __future__ import annotations

from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"
    verbose_name = "Scoring"

    def ready(self) -> None:
        from scoring import tasks  # noqa: F401  (registers the tasks: core.queue.enqueue finds them by name)
