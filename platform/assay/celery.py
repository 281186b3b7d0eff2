"""The one Celery app. Settings come from Django's CELERY_* settings (JSON only).

Run a worker with ``celery -A assay.celery worker --pool=solo -Q cpu,gpu.text,...``: every
queue that code sends to is listed by ``assay.generation.queues.defined_queues``.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assay.settings")

app = Celery("assay")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
