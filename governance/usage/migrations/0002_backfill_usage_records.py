"""Usage records for jobs that succeeded before usage was recorded (so quotas count them)."""

import datetime as dt
from typing import Any

from django.db import migrations


def _int(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _seconds(value: Any) -> float:
    try:
        return max(0.0, float(value or 0.0))
    except (TypeError, ValueError):
        return 0.0


def backfill(apps: Any, schema_editor: Any) -> None:
    """Same fields as governance.usage.services.record_usage (historical models here)."""
    job_model = apps.get_model("studio", "GenerationJob")
    record_model = apps.get_model("usage", "UsageRecord")
    jobs = (job_model.objects.filter(status="succeeded", usage_record__isnull=True)
            .select_related("project").order_by("pk"))
    batch = []
    for job in jobs.iterator(chunk_size=500):
        usage, model = job.usage or {}, job.model_ref or {}
        finished = (job.finished_at or job.queued_at).astimezone(dt.UTC)
        batch.append(record_model(
            job_id=job.pk, user_id=job.requested_by_id, team_id=job.project.team_id,
            project_id=job.project_id, generator_id=job.generator_id,
            model_name=str(model.get("name") or model.get("source") or "")[:300],
            day=finished.date(), jobs=1, images=_int(usage.get("images")),
            input_tokens=_int(usage.get("input_tokens")),
            output_tokens=_int(usage.get("output_tokens")), steps=_int(usage.get("steps")),
            wall_seconds=_seconds(usage.get("wall_seconds")),
            accelerator_seconds=_seconds(usage.get("accelerator_seconds"))))
        if len(batch) >= 500:
            record_model.objects.bulk_create(batch)
            batch = []
    record_model.objects.bulk_create(batch)


class Migration(migrations.Migration):

    dependencies = [
        ("usage", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
