"""Owners edit the brand kit, the fact library and the review policy; checks read them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from assay.accounts.choices import Capability, ProjectRole
from assay.audit.context import actor_for
from assay.audit.services import record
from assay.core.exceptions import InvalidInput
from assay.core.inputs import echo
from assay.plugins.contracts import (
    SEVERITIES,
    BannedTerm,
    CheckContext,
    Disclaimer,
    Fact,
)
from assay.plugins.patterns import compile_owner_pattern
from assay.studio.models import Asset, Project
from assay.studio.services.projects import require_capability
from governance.review.choices import DEFAULT_BLOCKING, DEFAULT_STAGES, MAX_STAGES
from governance.review.models import ApprovedFact, BrandKit, CheckResult, ReviewPolicy

_TRIGGERS = ("price", "percentage", "health", "financial")


def _strings(value: Any, where: str, *, limit: int = 200) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{where} must be a list of strings.", errors={where: ["not a list"]})
    return [v.strip()[:limit] for v in value if v.strip()]


def _check_regex(pattern: str, i: int) -> None:
    """Refuse now, with what to change, any pattern the disclaimer check would refuse when it
    runs: both compile it with RE2 through :func:`compile_owner_pattern`."""
    _, problem = compile_owner_pattern(pattern)
    if problem:
        shown = pattern if len(pattern) <= 60 else pattern[:59] + "…"
        raise InvalidInput(f"disclaimers[{i}]: the pattern '{shown}' {problem}.",
                           errors={f"disclaimers.{i}.triggers": [f"pattern {problem}"]})


def _items(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(f"{where} must be a list, not {type(value).__name__}.",
                           errors={where: ["not a list"]})
    return value


def _clean_terms(items: Any) -> list[dict[str, Any]]:
    terms = []
    for i, item in enumerate(_items(items, "banned_terms")):
        term = str(item.get("term", "") if isinstance(item, dict) else item).strip()
        if not term:
            raise InvalidInput(f"banned_terms[{i}] needs a term.",
                               errors={f"banned_terms.{i}": ["term is required"]})
        alts = _strings(item.get("alternatives", []) if isinstance(item, dict) else [],
                        f"banned_terms.{i}.alternatives")
        terms.append({"term": term[:100], "alternatives": alts})
    return terms


def _clean_disclaimers(items: Any) -> list[dict[str, Any]]:
    disclaimers = []
    for i, item in enumerate(_items(items, "disclaimers")):
        text = str(item.get("text", "")).strip() if isinstance(item, dict) else ""
        triggers = _strings(item.get("triggers", []) if isinstance(item, dict) else [],
                            f"disclaimers.{i}.triggers")
        bad = [t for t in triggers if t not in _TRIGGERS
               and not t.startswith(("keyword:", "regex:"))]
        for t in triggers:
            if t.startswith("regex:"):
                _check_regex(t[6:], i)
        if not text or not triggers or bad:
            raise InvalidInput(
                f"disclaimers[{i}] needs text and triggers from {', '.join(_TRIGGERS)}, "
                "keyword:<word> or regex:<pattern>.",
                errors={f"disclaimers.{i}": [f"unknown trigger {echo(t)!r}" for t in bad]
                        or ["text and triggers are required"]})
        disclaimers.append({"text": text[:1000], "triggers": triggers})
    return disclaimers


def clean_kit(data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The kit fields to write: with ``partial``, only those in ``data``; otherwise voice,
    banned terms and disclaimers are replaced (empty when absent). The portal checks what
    an owner types through here too, so the check while typing is the check on save."""
    out: dict[str, Any] = {}
    if not partial or "banned_terms" in data:
        out["banned_terms"] = _clean_terms(data.get("banned_terms", []))
    if not partial or "disclaimers" in data:
        out["disclaimers"] = _clean_disclaimers(data.get("disclaimers", []))
    if not partial or "voice" in data:
        out["voice"] = str(data.get("voice", ""))[:5000]
    for key in ("min_width", "min_height"):
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 8192:
                raise InvalidInput(f"{key} must be a whole number from 1 to 8192.",
                                   errors={key: ["out of range"]})
            out[key] = value
    return out


def kit_for(project: Project) -> BrandKit:
    """The project's brand kit (an empty one until an owner writes it)."""
    return BrandKit.objects.filter(project=project).first() or BrandKit(project=project)


@transaction.atomic
def update_brand_kit(user: Any, project: Project, data: dict[str, Any], *,
                     partial: bool = False) -> BrandKit:
    """Replace the brand kit's voice, banned terms, disclaimers and image minimums (with
    ``partial``, change only the fields in ``data``)."""
    require_capability(user, project, Capability.MANAGE, doing="edit the brand kit")
    return _write_kit(user, project, clean_kit(data, partial=partial))


def _write_kit(user: Any, project: Project, clean: dict[str, Any]) -> BrandKit:
    kit, _ = BrandKit.objects.select_for_update().get_or_create(project=project)
    before = {"voice": kit.voice, "banned_terms": kit.banned_terms,
              "disclaimers": kit.disclaimers, "min_width": kit.min_width,
              "min_height": kit.min_height}
    for key, value in clean.items():
        setattr(kit, key, value)
    kit.save()
    record("review.brand_kit.updated", target=kit, actor=actor_for(user),
           data={"before": before, "after": clean})
    return kit


def _date(value: Any, where: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{where} must be a date like 2026-01-31, not {echo(value)!r}.",
                           errors={where: ["not a date"]}) from None


def clean_facts(project: Project, facts: Any) -> list[ApprovedFact]:
    """Unsaved fact rows checked by the library's rules (statement, source, dates), or
    InvalidInput naming the row; CSV import and the REST kit both check through here."""
    rows = []
    for i, item in enumerate(_items(facts, "facts")):
        statement = str(item.get("statement", "")).strip() if isinstance(item, dict) else ""
        if not statement:
            raise InvalidInput(f"facts[{i}] needs a statement.",
                               errors={f"facts.{i}.statement": ["required"]})
        start = _date(item.get("valid_from"), f"facts.{i}.valid_from")
        end = _date(item.get("valid_until"), f"facts.{i}.valid_until")
        if start and end and end < start:
            raise InvalidInput(f"facts[{i}] ends before it starts.",
                               errors={f"facts.{i}.valid_until": ["before valid_from"]})
        rows.append(ApprovedFact(project=project, statement=statement[:2000],
                                 source_url=str(item.get("source_url", ""))[:500],
                                 valid_from=start, valid_until=end))
    return rows


def _write_facts(user: Any, project: Project, rows: list[ApprovedFact]) -> list[ApprovedFact]:
    current = ApprovedFact.objects.select_for_update().filter(project=project)
    before = list(current.values_list("statement", flat=True))
    current.delete()
    created = ApprovedFact.objects.bulk_create(rows)
    record("review.facts.updated", target=project, actor=actor_for(user),
           data={"before": before, "after": [r.statement for r in rows]})
    return created


@transaction.atomic
def replace_facts(user: Any, project: Project, facts: list[dict[str, Any]]
                  ) -> list[ApprovedFact]:
    """Replace the project's approved-fact library (statement, source, validity)."""
    require_capability(user, project, Capability.MANAGE, doing="edit approved facts")
    return _write_facts(user, project, clean_facts(project, facts))


@transaction.atomic
def edit_brand_kit(user: Any, project: Project, data: dict[str, Any], *,
                   partial: bool = False) -> BrandKit:
    """One request's change to the kit and, when ``facts`` is in ``data``, the fact library.

    Everything is checked before anything is written, in one transaction: a refusal leaves
    the kit, the facts and the audit log as they were. Without ``partial`` the kit is
    replaced (see :func:`update_brand_kit`); with it only the fields sent change.
    """
    require_capability(user, project, Capability.MANAGE, doing="edit the brand kit")
    kit_data = {key: value for key, value in data.items() if key != "facts"}
    clean = clean_kit(kit_data, partial=partial)
    rows = clean_facts(project, data["facts"]) if "facts" in data else None
    kit = _write_kit(user, project, clean) if clean or not partial else kit_for(project)
    if rows is not None:
        _write_facts(user, project, rows)
    return kit


def _clean_stages(stages: Any) -> list[dict[str, Any]]:
    if not isinstance(stages, list) or not stages:
        raise InvalidInput("A policy needs at least one stage.", errors={"stages": ["empty"]})
    if len(stages) > MAX_STAGES:
        raise InvalidInput(f"A policy has at most {MAX_STAGES} stages; this one has "
                           f"{len(stages)}. Merge some stages.",
                           errors={"stages": [f"at most {MAX_STAGES} stages"]})
    clean, names = [], set()
    for i, stage in enumerate(stages):
        if not isinstance(stage, dict):
            raise InvalidInput(f"stages[{i}] must be an object.", errors={f"stages.{i}": ["?"]})
        name = str(stage.get("name", "")).strip()[:60]
        required = stage.get("approvals_required", 1)
        roles = _strings(stage.get("roles", ["reviewer", "owner"]), f"stages.{i}.roles")
        due = stage.get("due_hours", 48)
        problems = []
        if not name or name in names:
            problems.append("needs a unique name")
        if not isinstance(required, int) or not 1 <= required <= 10:
            problems.append("approvals_required must be 1 to 10")
        if not roles or any(r not in (ProjectRole.REVIEWER, ProjectRole.OWNER) for r in roles):
            problems.append("roles must be reviewer and/or owner (creators never decide)")
        if not isinstance(due, (int, float)) or not 0 < due <= 24 * 60:
            problems.append("due_hours must be between 0 and 1440")
        if problems:
            raise InvalidInput(f"stages[{i}]: {'; '.join(problems)}.",
                               errors={f"stages.{i}": problems})
        names.add(name)
        clean.append({"name": name, "approvals_required": required, "roles": roles,
                      "due_hours": due})
    return clean


@transaction.atomic
def update_policy(user: Any, project: Project, data: dict[str, Any], *,
                  partial: bool = False) -> ReviewPolicy:
    """Replace the review policy (reviews already under way keep the rules they began with).

    Without ``partial``, ``stages`` is required and ``blocking_severities`` defaults to
    high and critical; with it, only the fields in ``data`` change. ``auto_submit`` keeps
    its value when absent. Checked in full before the one write.
    """
    require_capability(user, project, Capability.MANAGE, doing="edit the review policy")
    policy = ReviewPolicy.objects.select_for_update().filter(project=project).first()
    current = policy or policy_for(project)
    stages = (_clean_stages(data.get("stages")) if not partial or "stages" in data
              else current.stages)
    blocking = (_strings(data.get("blocking_severities", DEFAULT_BLOCKING),
                         "blocking_severities")
                if not partial or "blocking_severities" in data
                else current.blocking_severities)
    unknown = [s for s in blocking if s not in SEVERITIES]
    if unknown:
        raise InvalidInput(f"Unknown severities: {echo(', '.join(unknown))} (use "
                           f"{', '.join(SEVERITIES)}).",
                           errors={"blocking_severities": ["unknown severity"]})
    auto_submit = data.get("auto_submit", current.auto_submit)
    if not isinstance(auto_submit, bool):
        raise InvalidInput("auto_submit must be true or false.",
                           errors={"auto_submit": ["not a boolean"]})
    before = ({"stages": policy.stages, "blocking_severities": policy.blocking_severities,
               "auto_submit": policy.auto_submit} if policy else None)
    policy = policy or ReviewPolicy(project=project)
    policy.stages, policy.blocking_severities = stages, blocking
    policy.auto_submit = auto_submit
    policy.save()
    record("review.policy.updated", target=policy, actor=actor_for(user),
           data={"before": before, "after": {"stages": stages, "blocking_severities": blocking,
                                             "auto_submit": policy.auto_submit}})
    return policy


def policy_for(project: Project) -> ReviewPolicy:
    """The project's policy, or the default: one stage, one approval by a reviewer or owner."""
    return ReviewPolicy.objects.filter(project=project).first() or ReviewPolicy(
        project=project, stages=[dict(s) for s in DEFAULT_STAGES],
        blocking_severities=list(DEFAULT_BLOCKING))


def check_context(asset: Asset) -> CheckContext:
    """Everything a check needs to know about the asset's project, as plain data."""
    project = asset.project
    kit = kit_for(project)
    targets = asset.job.prompt_version.targets if asset.job_id else {}
    approved = CheckResult.objects.filter(
        project=project, check_id="near-duplicate", metadata__has_key="phash",
        asset__reviews__status="approved").exclude(asset=asset).values_list(
        "asset_id", "metadata")
    return CheckContext(
        project=project.slug,
        today=timezone.localdate(),
        voice=kit.voice,
        banned_terms=[BannedTerm(t["term"], tuple(t.get("alternatives", ())))
                      for t in kit.banned_terms],
        disclaimers=[Disclaimer(d["text"], tuple(d["triggers"])) for d in kit.disclaimers],
        facts=[Fact(str(f.pk), f.statement, f.source_url, f.valid_from, f.valid_until)
               for f in ApprovedFact.objects.filter(project=project)],
        min_words=targets.get("min_words"), max_words=targets.get("max_words"),
        max_grade=targets.get("max_grade"),
        min_width=kit.min_width, min_height=kit.min_height,
        approved_image_hashes=[(str(a), m["phash"]) for a, m in approved],
    )
