"""Running every applicable check plugin on an asset version and storing the results."""

from __future__ import annotations

import dataclasses
import logging

from django.db import transaction

from assay.audit.context import Actor, audit_context
from assay.audit.services import record
from assay.core.exceptions import Conflict
from assay.plugins.contracts import CHECK_STATUSES, SEVERITIES, CheckOutcome, CheckSubject
from assay.plugins.manager import get_plugins
from assay.studio.models import Asset
from governance.review.brand import check_context, policy_for
from governance.review.models import CheckResult, PromotionRun
from governance.review.policy import OpenReview

log = logging.getLogger(__name__)

CHECKER = Actor.system("checks")


def subject_for(asset: Asset) -> CheckSubject:
    """The asset version as plain data for the checks."""
    binary = bool(asset.file)
    job = asset.job if asset.job_id else None
    return CheckSubject(asset_id=str(asset.pk), kind=asset.kind, media_type=asset.media_type,
                        sha256=asset.sha256, text=None if binary else asset.text,
                        data=asset.read_bytes() if binary else None, width=asset.width,
                        height=asset.height, generator=job.generator_id if job else "",
                        parameters=dict(job.parameters or {}) if job else {},
                        prompt=job.rendered_prompt if job else "",
                        metadata=dict(asset.metadata or {}))


def _outcome_or_error(check_id: str, run: object) -> CheckOutcome:
    """A check that crashes is itself a finding: it must not let the asset pass unchecked."""
    try:
        outcome = run()  # type: ignore[operator]
    except Exception as exc:
        log.exception("check %s failed", check_id)
        return CheckOutcome(status="fail", severity="high",
                            summary=f"The check crashed ({type(exc).__name__}: {exc}); "
                                    "ask an admin to look at the plugin.")
    if outcome.status not in CHECK_STATUSES or outcome.severity not in SEVERITIES:
        return CheckOutcome(status="fail", severity="high",
                            summary=f"The check returned an invalid status/severity "
                                    f"({outcome.status}/{outcome.severity}).")
    return outcome


def run_checks(asset_id: str, *, correlation_id: str | None = None) -> list[CheckResult]:
    """Run the checks for the asset's kind, store each result, then submit for review.

    Idempotent per asset version: a repeated delivery replaces the results of the same
    content hash instead of adding more, and never reopens a version that was approved or
    whose content was rejected. Events carry ``correlation_id`` (the request that made
    the asset), else the job's.
    """
    asset = Asset.objects.select_related("project", "job__prompt_version",
                                         "job__requested_by").filter(pk=asset_id).first()
    if asset is None:
        return []
    plugins = get_plugins()
    subject, context = subject_for(asset), check_context(asset)
    checks = sorted((cls for cls in plugins.checks.values() if asset.kind in cls.modalities),
                    key=lambda cls: cls.id)
    outcomes = [(cls, _outcome_or_error(cls.id, lambda c=cls: c().run(subject, context)))
                for cls in checks]
    results = []
    correlation_id = correlation_id or (asset.job.correlation_id if asset.job_id else None)
    with audit_context(correlation_id=correlation_id, actor=CHECKER), transaction.atomic():
        for cls, outcome in outcomes:
            result, _ = CheckResult.objects.update_or_create(
                asset=asset, content_sha256=asset.sha256, check_id=cls.id, defaults={
                    "project": asset.project, "check_version": cls.version,
                    "plugin": next((s.name for s in plugins.statuses if cls.id in s.checks), ""),
                    "status": outcome.status, "severity": outcome.severity,
                    "score": outcome.score, "summary": outcome.summary[:2000],
                    "evidence": [dataclasses.asdict(e) for e in outcome.evidence][:200],
                    "metadata": outcome.metadata})
            results.append(result)
        record("review.checks.completed", target=asset, data={
            "sha256": asset.sha256,
            "results": {r.check_id: [r.status, r.severity] for r in results}})
        # A promotion's golden-set outputs are judged on the promotion's page; they are
        # trial runs, not assets anyone asked to publish, so they never enter the queue.
        trial = PromotionRun.objects.filter(job_id=asset.job_id).exists() if asset.job_id else False
        if policy_for(asset.project).auto_submit and not trial:
            try:
                with transaction.atomic():  # a refusal undoes the opening, not the results
                    OpenReview(asset).execute()
            except Conflict as exc:
                log.info("asset %s not submitted for review: %s", asset.pk, exc.message)
    return results
