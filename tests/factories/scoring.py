"""Teams and reps. Call inside ``tests.factories.in_tenant(slug)``.

Use ``TeamFactory.create(...)`` (typed: returns a ``Team``) rather than ``TeamFactory(...)``.
"""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from scoring.models import Rep, Team


class TeamFactory(DjangoModelFactory[Team]):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    description = ""


class RepFactory(DjangoModelFactory[Rep]):
    class Meta:
        model = Rep

    external_id = factory.Sequence(lambda n: f"rep-{n}")
    name = factory.Sequence(lambda n: f"Rep {n}")
    email = factory.LazyAttribute(lambda rep: f"{rep.external_id}@example.com")
    team = None
    active = True
