"""gunicorn's settings, the same for every way the API runs: ``make run``, the tests and the
bench (``config.processes.gunicorn``) and the Docker image (docker/entrypoint.sh,
docker/Dockerfile) start it with ``--config python:config.gunicorn_conf``.

What differs from one of them to the next (address, worker count, log files, timeouts) is
given on the command line, which overrides this module. gunicorn reads the names below that
are its settings and ignores the others.
"""

from __future__ import annotations

from config.gunicorn_logging import ACCESS_LOG_FORMAT

# Our error pages in the API's JSON shape, no Server header (config/gunicorn_worker.py).
worker_class = "config.gunicorn_worker.SyncWorker"
# Log lines without keys or tokens (config/gunicorn_logging.py).
logger_class = "config.gunicorn_logging.RedactingLogger"
access_log_format = ACCESS_LOG_FORMAT
