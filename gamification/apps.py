from __future__ import annotations

from django.apps import AppConfig


class GamificationConfig(AppConfig):
    name = "gamification"
    verbose_name = "Gamification"

    def ready(self) -> None:
        from core.queue import run_here_when_batched
        from gamification import tasks  # noqa: F401  (registers the tasks: core.queue.enqueue finds them by name)
        from gamification.services.badge_past import BADGE_PAST, badge_past_run
        from gamification.services.evaluation import day_scored_evaluate
        from gamification.services.outbox import DISPATCH_OUTBOX
        from gamification.services.xp import INGEST_SQL, xp_credit_events
        from scoring import hooks

        # A fan-out is a few statements in the tenant's schema: a batch of nightlies runs each
        # tenant's at the end of its job instead of sending one message per tenant.
        run_here_when_batched(DISPATCH_OUTBOX)

        hooks.on_events_stored(xp_credit_events, sql=INGEST_SQL)
        hooks.on_day_scored(day_scored_evaluate)
        hooks.on_job_kind(BADGE_PAST, badge_past_run)
