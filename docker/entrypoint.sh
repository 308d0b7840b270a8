#!/bin/sh
# Entrypoint of the SSI Cloud image. The first argument picks the process:
#
#   web      migrate the database (manage.py setup_db), then serve the API with gunicorn
#   worker   Celery worker
#   beat     Celery beat (schedule file in /tmp: the source tree is read-only)
#   migrate  manage.py setup_db only (public schema, tenant template, every tenant), then exit
#   *        anything else is run as given (the image's default CMD is gunicorn alone)
#
# Extra arguments after web/worker/beat are passed on to gunicorn/celery, e.g.
# `worker --concurrency 4`. setup_db is idempotent; when several web replicas
# start at once, prefer one `migrate` job and run the web replicas with the
# default command instead.
set -eu

setup_db() {
    python manage.py setup_db
}

case "${1:-}" in
    web)
        shift
        setup_db
        # config/gunicorn_conf.py: our worker and access log (as the image's default CMD).
        exec gunicorn config.wsgi:application \
            --config python:config.gunicorn_conf \
            --bind 0.0.0.0:8000 \
            --workers "${WEB_CONCURRENCY:-2}" \
            --access-logfile - \
            --error-logfile - \
            --worker-tmp-dir /dev/shm \
            "$@"
        ;;
    worker)
        shift
        exec celery -A config worker -l info "$@"
        ;;
    beat)
        shift
        exec celery -A config beat -l info --schedule /tmp/celerybeat-schedule "$@"
        ;;
    migrate)
        shift
        setup_db
        ;;
    *)
        exec "$@"
        ;;
esac
