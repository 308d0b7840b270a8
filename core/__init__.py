"""The shared core: what every layer above may use and that knows no tenant, rep or request.

Errors (``core.errors``), database helpers (``core.db``), secret tokens
(``core.tokens``), local days (``core.clock``) and the one way to publish a
Celery task (``core.queue``). It imports no other package of the project.
"""
