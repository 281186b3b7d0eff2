"""Submitting and cancelling generation jobs: the only way a job is created or stopped."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assay.accounts.choices import Capability
from assay.audit.context import actor_for, audit_context
from assay.audit.services import record
from assay.core.exceptions import Conflict, InvalidInput
from assay.generation.choices import JobStatus
from assay.generation.dispatch import send_job
from assay.generation.models import GenerationJob
from assay.generation.registry import choose_model
from assay.generation.transitions import transition
from assay.plugins.contracts import Generator, ModelRef
from assay.plugins.manager import get_plugins
from assay.studio.models import Asset
from assay.studio.rendering import render
from assay.studio.services.assets import project_asset
from assay.studio.services.projects import require_capability
from assay.studio.services.prompts import resolve_version


def submit_generation(
    user: Any,
    *,
    project: Any,
    variables: dict[str, Any] | None = None,
    prompt_version: Any = None,
    template: Any = None,
    label: str | None = None,
    version: Any = None,
    generator: str | None = None,
    parameters: dict[str, Any] | None = None,
    model: str | None = None,
    parent_asset: Any = None,
    revision_of: Any = None,
    prompt_additions: str = "",
    style: str = "",
) -> GenerationJob:
    """Validate a generation request, write the job and its audit event, queue it.

    Checks, in order: the user's role in the project, the prompt version, the generator
    and the parameters against its schema, the model (registered and allowed in this
    project), the parent asset of an image-to-image job (same project), the asset this job
    regenerates as a new version (``revision_of``: same project and kind, and the newest
    version, so versions never branch), then renders the prompt in the sandbox. The
    job row and the ``studio.generation.submitted`` event commit together; the Celery
    task is sent only after that commit (the row is the outbox: if the broker is down the
    job stays queued and the sweeper sends it later).

    ``prompt_additions`` and ``style`` come from a caller that already resolved a named
    style (``governance.review.styled.styled_submission``); this layer does not know what
    a style is. The additions are appended to the rendered prompt (within the same length
    bound) and the name is recorded as ``parameters["style"]``, which provenance reads.

    Raises:
        NotFound, NotPermitted, InvalidInput: with a message that says what to fix. The
            generator, parameter, variable and parent-asset problems come together as one
            InvalidInput, with every field's messages in ``errors``.
        QuotaExceeded: a monthly quota is used up (checked under a lock in the job's
            transaction, so concurrent submissions cannot overshoot it).
    """
    found = require_capability(user, project, Capability.GENERATE, doing="submit generations")
    if not isinstance(variables or {}, dict):
        raise InvalidInput("'variables' must be an object of name → value.",
                           errors={"variables": ["must be an object"]})
    if not isinstance(parameters or {}, dict):
        raise InvalidInput("'parameters' must be an object of name → value.",
                           errors={"parameters": ["must be an object"]})
    prompt = resolve_version(found, version_id=prompt_version, template_ref=template,
                             label=label, number=version)
    plugins = get_plugins()
    generator_id = generator or prompt.generator_id
    generator_cls = plugins.generator(generator_id)
    # Every problem with the generator, its parameters, the variables and the starting
    # image is collected and refused together, so a form can show them all at once.
    refusals = _Refusals()
    if generator_cls is None:
        known = ", ".join(sorted(plugins.generators)) or "none installed"
        refusals.note(InvalidInput(f"Unknown generator {generator_id!r} (available: {known}).",
                                   errors={"generator": [f"unknown; available: {known}"]}))
    elif generator_cls.modality != prompt.modality:
        refusals.note(InvalidInput(
            f"Generator {generator_id} makes {generator_cls.modality}, but this prompt "
            f"version is for {prompt.modality}.",
            errors={"generator": ["modality does not match the prompt version"]},
        ))
        generator_cls = None
    clean: dict[str, Any] = {}
    if generator_cls is not None:
        # The version's defaults were written for the version's own generator: another
        # generator gets only what was asked for, and its own defaults for the rest.
        defaults = prompt.default_parameters if generator_id == prompt.generator_id else {}
        clean, errors = generator_cls.validate_parameters({**defaults, **(parameters or {})})
        if errors:
            details = "; ".join(f"{name} {msg}" for name, msg in errors.items())
            refusals.note(InvalidInput(
                f"Parameters out of bounds: {details}.",
                errors={f"parameters.{k}": [v] for k, v in errors.items()}))
    rendered = refusals.attempt(render, prompt.text, prompt.variables, variables or {},
                                max_chars=settings.ASSAY_MAX_PROMPT_CHARS,
                                max_variable_chars=settings.ASSAY_MAX_VARIABLE_CHARS)
    if rendered is not None and prompt_additions:
        rendered = refusals.attempt(_with_additions, rendered, prompt_additions)
    parent = (refusals.attempt(_parent_asset, found, generator_cls, parent_asset)
              if generator_cls is not None else None)
    refusals.raise_any()
    assert generator_cls is not None  # refused above otherwise
    if clean.get("seed") is None:
        clean["seed"] = secrets.randbelow(2**32)
    if style:
        clean["style"] = str(style)
    # Like its default settings, a version's default model is for its own generator only.
    own_model = prompt.default_model if generator_id == prompt.generator_id else ""
    model_ref = choose_model(found, generator_cls, model or own_model or None,
                             str(settings.ASSAY_MODELS_DIR))
    earlier = _revision_of(found, prompt.modality, revision_of)
    batch_key = _batch_key(generator_cls, model_ref, clean, parent is not None)
    with audit_context() as ctx, transaction.atomic():
        # Quotas (and any other governance rule) refuse here; locks held until commit.
        get_plugins().pm.hook.generation_submitting(
            user=user, project=found, generator=generator_cls, parameters=clean)
        job = GenerationJob.objects.create(
            project=found, prompt_version=prompt, variables=variables or {},
            rendered_prompt=rendered, modality=prompt.modality, generator_id=generator_id,
            generator_version=generator_cls.version,
            plugin_name=plugins.generator_plugin.get(generator_id, ""),
            model_ref=model_ref.as_dict(), parameters=clean, seed=clean["seed"],
            queue=generator_cls.queue, requested_by=user, batch_key=batch_key,
            parent_asset=parent, revision_of=earlier,
            correlation_id=ctx.correlation_id,
        )
        record("studio.generation.submitted", target=job, actor=actor_for(user), data={
            "generator": generator_id, "prompt_version": prompt.pk,
            "template": prompt.template.slug, "version": prompt.number,
            "parameters": clean, "queue": job.queue, "model": model_ref.as_dict(),
            "parent_asset": str(parent.pk) if parent else None,
            "revision_of": str(earlier.pk) if earlier else None,
        })
        transaction.on_commit(partial(send_job, job.pk))
    return job


def _with_additions(rendered: str, additions: str) -> str:
    """The rendered prompt with a style's additions after it, still within the bound."""
    text = f"{rendered.rstrip()}, {additions.strip()}" if rendered.strip() else additions.strip()
    if len(text) > settings.ASSAY_MAX_PROMPT_CHARS:
        raise InvalidInput(
            f"With the style's additions the prompt is {len(text)} characters; the limit is "
            f"{settings.ASSAY_MAX_PROMPT_CHARS}.", errors={"style": ["prompt too long with it"]})
    return text


class _Refusals:
    """The InvalidInput refusals of one submission, raised together as one InvalidInput
    whose ``errors`` hold every field's messages (its message joins theirs)."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.errors: dict[str, list[str]] = {}

    def note(self, exc: InvalidInput) -> None:
        """Keep a refusal for later."""
        self.messages.append(exc.message)
        for key, items in exc.errors.items():
            self.errors.setdefault(key, []).extend(items)

    def attempt(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        """``call(*args, **kwargs)``, or None with its InvalidInput kept."""
        try:
            return call(*args, **kwargs)
        except InvalidInput as exc:
            self.note(exc)
            return None

    def raise_any(self) -> None:
        """Raise everything noted so far, as one refusal."""
        if self.messages:
            raise InvalidInput(" ".join(self.messages), errors=self.errors)


def _parent_asset(project: Any, generator_cls: type[Generator], ref: Any) -> Asset | None:
    """The asset a job starts from, of a kind its generator takes (``parent_kinds``): the
    init image of an image-to-image or image-to-video job, the script of a speech job. It
    must belong to the same project."""
    if ref in (None, ""):
        return None
    kinds = generator_cls.parent_kinds
    if not kinds:
        raise InvalidInput(f"Generator {generator_cls.id} does not take a parent asset.",
                           errors={"parent_asset": [
                               "this generator cannot start from an existing asset"]})
    return project_asset(project, ref, field="parent_asset", kinds=kinds,
                         label="The parent asset", kind_label="The parent asset")


def _revision_of(project: Any, modality: str, ref: Any) -> Asset | None:
    """The asset a job regenerates as its new version: the newest version of an asset of
    the same project and kind (revising an older one would fork the version history)."""
    if ref in (None, ""):
        return None
    try:
        key = uuid.UUID(str(ref))
    except ValueError:
        raise InvalidInput(f"{ref!r} is not an asset id.",
                           errors={"revision_of": ["not an asset id"]}) from None
    earlier = Asset.objects.filter(pk=key, project=project).first()
    if earlier is None:
        raise InvalidInput(f"The asset to revise must be an asset of project {project.slug}.",
                           errors={"revision_of": ["not an asset of this project"]})
    if earlier.kind != modality:
        raise InvalidInput(f"The asset to revise is {earlier.kind}, but this prompt version "
                           f"makes {modality}; choose a {earlier.kind} prompt version.",
                           errors={"revision_of": [f"is {earlier.kind}, not {modality}"]})
    newest = earlier.newest_version()
    if newest.pk != earlier.pk:
        raise Conflict(f"This asset already has a newer version ({newest.pk}); revise that "
                       "one instead.", errors={"revision_of": [f"newer version: {newest.pk}"]})
    return earlier


def _batch_key(generator_cls: type[Generator], model: ModelRef, params: dict[str, Any],
               has_inputs: bool) -> str:
    """Equal for jobs that one batched model call can serve together."""
    signature = {"generator": generator_cls.id, "version": generator_cls.version,
                 "model": [model.source, model.revision],
                 "params": generator_cls.batch_signature(params),
                 "mode": "with-inputs" if has_inputs else "plain"}
    return hashlib.sha256(json.dumps(signature, sort_keys=True, default=str).encode()
                          ).hexdigest()


def get_job(user: Any, job_id: Any) -> GenerationJob:
    """A job the user may see, or NotFound (also for ids that are not UUIDs)."""
    return GenerationJob.objects.select_related("project").get_visible(user, job_id, noun="job")


@transaction.atomic
def cancel_job(user: Any, job: GenerationJob, *, reason: str = "") -> GenerationJob:
    """Cancel a queued job at once, or ask a running one to stop at its next step.

    Concurrent cancels of one job write one event: each change is a compare-and-set (the
    queued → cancelled transition, or ``cancel_requested`` false → true), and only the
    caller whose UPDATE changed the row records it. A caller that lost the race to cancel
    a queued job gets the Conflict a late cancel gets; one that asked a running job to
    stop after another caller did gets the job back, as a repeated request does.

    Raises:
        NotPermitted: the user may not generate in the job's project.
        Conflict: the job already finished.
    """
    require_capability(user, job.project, Capability.GENERATE, doing="cancel generations")
    job.refresh_from_db()
    if job.status == JobStatus.QUEUED and transition(
        job, JobStatus.CANCELLED, finished_at=timezone.now(), cancel_requested=True
    ):
        record("studio.generation.cancelled", target=job, reason=reason, actor=actor_for(user),
               data={"while": "queued"})
        return job
    job.refresh_from_db()
    if job.status == JobStatus.RUNNING:
        asked = GenerationJob.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, cancel_requested=False
        ).update(cancel_requested=True)
        if asked:
            job.cancel_requested = True
            record("studio.generation.cancel_requested", target=job, reason=reason,
                   actor=actor_for(user))
            return job
        job.refresh_from_db()  # another caller asked first, or the job just finished
        if job.status == JobStatus.RUNNING:
            return job
    raise Conflict(f"This job already {job.status}; there is nothing to cancel.",
                   errors={"status": [job.status]})
