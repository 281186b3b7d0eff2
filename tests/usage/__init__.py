"""Usage and quota tests; ``make_record`` writes usage as the worker would have."""

from __future__ import annotations

import datetime as dt
from typing import Any

from assay.generation.models import GenerationJob
from assay.studio.models import Project
from governance.usage.models import UsageRecord


def make_job(project: Project, user: Any, version: Any, *, status: str = "succeeded",
             generator: str = "dummy-echo", modality: str = "text",
             parameters: dict[str, Any] | None = None) -> GenerationJob:
    """A job row without going through submission (quotas are not consulted)."""
    return GenerationJob.objects.create(
        project=project, prompt_version=version, rendered_prompt="x", modality=modality,
        generator_id=generator, generator_version="1", model_ref={"name": "dummy"},
        parameters=parameters or {}, seed=1, queue="cpu", requested_by=user,
        correlation_id="test", status=status)


def make_record(project: Project, user: Any, version: Any, *, day: dt.date | None = None,
                generator: str = "dummy-echo", model: str = "dummy",
                **sums: Any) -> UsageRecord:
    """A succeeded job and its usage record on ``day`` (today, UTC, by default)."""
    job = make_job(project, user, version, generator=generator)
    return UsageRecord.objects.create(
        job=job, user=user, team_id=project.team_id, project=project, generator_id=generator,
        model_name=model, day=day or dt.datetime.now(dt.UTC).date(), **sums)
