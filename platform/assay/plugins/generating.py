"""Small helpers that generator plugins share: loading a model and cleaning a request.

Part of the public facade (``from assay import …``). Every generator plugin resolves its
model the same way, names a torch dtype the same way and fills a request's defaults the
same way; doing it in one place keeps their error messages and pins identical. Nothing
here imports torch: the helpers that need it take the module (or its tensors) as an
argument, so the plugin keeps importing torch lazily and the platform never does.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from types import ModuleType
from typing import Any, Protocol, TypeVar

from assay.plugins.contracts import (
    GenerationRequest,
    Generator,
    ModelRef,
    Progress,
    RequestResult,
)
from assay.plugins.modelfiles import ResolvedSource, resolve_source

#: Added to a missing demo folder's error: how an operator gets the folder.
DEMO_BUILD_HINT = " (build it with `manage.py build_demo_models`)"


class IndexedJob(Protocol):
    """A plugin's record of one request in a call: ``index`` is its place in the batch."""

    index: int


J = TypeVar("J", bound=IndexedJob)


def resolve_model(model_ref: ModelRef, *demo_names: str) -> ResolvedSource:
    """:func:`resolve_source` for a generator's ``load``, hinting how to build a demo model.

    ``demo_names`` are the plugin's demo model names: a missing folder of one of them gets
    :data:`DEMO_BUILD_HINT` in its error, any other missing folder a plain error.
    """
    hint = DEMO_BUILD_HINT if model_ref.name in demo_names else ""
    return resolve_source(model_ref, missing_hint=hint)


def torch_dtype(torch: ModuleType, dtype: str) -> Any:
    """The ``torch.dtype`` named ``dtype`` (e.g. "float32"), from the plugin's torch module.

    Raises:
        ValueError: ``dtype`` names nothing in torch, or something that is not a dtype.
    """
    value = getattr(torch, dtype, None)
    if not isinstance(value, torch.dtype):
        raise ValueError(f"unknown dtype {dtype!r}")
    return value


def tensor_bytes(*modules: Any) -> int:
    """Bytes held by the parameters and buffers of torch modules; None entries are skipped.

    What ``Generator.approximate_size_bytes`` reports for the model cache's budget.
    """
    total = 0
    for module in modules:
        if module is not None:
            tensors = [*module.parameters(), *module.buffers()]
            total += sum(t.numel() * t.element_size() for t in tensors)
    return total


def clean_parameters(generator: type[Generator] | Generator, request: GenerationRequest,
                     *, include_seed: bool = False) -> dict[str, Any]:
    """A request's parameters with the generator's defaults filled in, inside ``generate``.

    Names the generator does not declare are dropped (``seed`` too, unless
    ``include_seed``). Parameters were validated when the job was submitted, so an
    invalid one here is a bug upstream.

    Raises:
        ValueError: a parameter is invalid; the message names the job.
    """
    declared = generator.all_parameters() if include_seed else generator.parameters
    known = {p.name for p in declared}
    params, errors = generator.validate_parameters(
        {k: v for k, v in request.parameters.items() if k in known})
    if errors:
        raise ValueError(f"request {request.job_id}: invalid parameters {errors}")
    return params


def run_in_groups(batch: list[GenerationRequest], progress: Progress,
                  plan: Callable[[int, GenerationRequest], tuple[Hashable, J]],
                  run: Callable[[list[J]], list[RequestResult]],
                  *, cancelled_usage: dict[str, float] | None = None) -> list[RequestResult]:
    """Split a batch into calls by key, run each call once, and put results back in order.

    ``plan(index, request)`` returns a request's call key and job (so an invalid request
    fails before any work); a request already cancelled in the queue then gets a
    cancelled result (with a copy of ``cancelled_usage``) and joins no call. ``run(jobs)``
    runs one call and returns a result per job, in order. The batcher normally puts one
    key together, so there is one call; a mixed batch still works, one call a key. The
    caller wraps this in ``torch.inference_mode()`` where it runs a model.
    """
    results: list[RequestResult | None] = [None] * len(batch)
    groups: dict[Hashable, list[J]] = {}
    for index, request in enumerate(batch):
        key, job = plan(index, request)
        if progress.is_cancelled(index):  # cancelled while it waited in the queue
            usage = {} if cancelled_usage is None else dict(cancelled_usage)
            results[index] = RequestResult(outputs=[], usage=usage, cancelled=True)
            continue
        groups.setdefault(key, []).append(job)
    for jobs in groups.values():
        for job, result in zip(jobs, run(jobs), strict=True):
            results[job.index] = result
    return [r for r in results if r is not None]
