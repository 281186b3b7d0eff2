"""Building promotions for the tests: a protected ``production`` label, a golden set, a
second version by the creator, and golden-set jobs run by the real runtime and checks."""

from __future__ import annotations

from typing import Any

from assay.generation.choices import JobStatus
from assay.generation.runtime import run_job
from assay.studio.models import Asset, PromptTemplate, PromptVersion
from assay.studio.services.prompts import add_version, move_label
from assay.studio.services.protection import protect_label, save_golden_set
from governance.review.checks import run_checks
from governance.review.promotion import RequestPromotion
from governance.review.promotion_models import Promotion

SAMPLES = [{"product": "Kite", "audience": "parents"}, {"product": "Drone"}]


def protected_template(users: dict[str, Any], project: Any, template: PromptTemplate
                       ) -> PromptVersion:
    """``production`` on version 1 (moved by hand before it was protected), protected, a
    golden set of two samples, and version 2 written by the creator (returned)."""
    v1 = template.versions.get(number=1)
    move_label(template, users["owner"], name="production", version=v1)
    protect_label(project, users["owner"], name="production")
    save_golden_set(template, users["owner"], samples=SAMPLES)
    return add_version(template, users["creator"],
                       text="Write a short, friendly note about {{ product }} for {{ audience }}.",
                       variables=[{"name": "product"},
                                  {"name": "audience", "required": False,
                                   "default": "everyone"}],
                       generator_id="dummy-echo")


def run_golden_set(promotion: Promotion, capture: Any) -> None:
    """Run every golden-set job in this process (the worker runtime), then the checks."""
    for run in promotion.runs.select_related("job"):
        run.job.refresh_from_db()
        if run.job.status == JobStatus.QUEUED:
            with capture(execute=False):
                run_job(str(run.job.pk), worker="w")
    for asset in Asset.objects.filter(job__in=promotion.runs.values("job")):
        run_checks(str(asset.pk))


def requested(users: dict[str, Any], template: PromptTemplate, version: PromptVersion,
              capture: Any, *, by: str = "creator", run: bool = True) -> Promotion:
    """A promotion of ``version`` to production, its golden set run (unless ``run``)."""
    with capture(execute=False):
        promotion = RequestPromotion(users[by], template, version=version.pk,
                                     label="production").execute()
    if run:
        run_golden_set(promotion, capture)
    return promotion


def matrix_promotion(users: dict[str, Any], project: Any, template: PromptTemplate,
                     capture: Any) -> dict[str, int]:
    """An open promotion (its jobs not run) and a protection, for the permission matrix."""
    v2 = protected_template(users, project, template)
    promotion = requested(users, template, v2, capture, run=False)
    return {"promotion": promotion.pk,
            "protection": project.protected_labels.get(name="production").pk}
