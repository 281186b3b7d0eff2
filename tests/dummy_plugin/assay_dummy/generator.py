"""A deterministic, controllable text generator for exercising the job machinery.

It can run slowly (``steps`` × ``step_seconds``) to test progress and cancellation, raise
(``fail``) to test error reporting, and kill its own process (``die``) to test recovery
from a worker that dies mid-job. ``as_file`` returns the text as a file, so the output
goes through the media storage (to test a storage that refuses it); ``nul`` puts a NUL
byte in the text, which PostgreSQL refuses when the output is stored. ``num_variants``
returns several outputs per job (each tagged from the seed plus its number), as the real
generators' variants do.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time

from assay import (
    GeneratedOutput,
    GenerationRequest,
    Generator,
    ModelRef,
    Param,
    Progress,
    RequestResult,
)


class DummyTextGenerator(Generator):
    """Echoes the prompt with a seed-derived tag."""

    id = "dummy-echo"
    modality = "text"
    version = "0.3"
    queue = "cpu"
    max_batch_size = 8
    description = "Test generator: echoes the prompt."
    parameters = (
        # ``steps`` keeps its fallback label ("Steps") and stays in the advanced fold: the
        # API test pins its description.
        Param("steps", int, 1, 1, 1000, help="Progress steps."),
        Param("num_variants", int, 1, 1, 4, label="Number of variants", plain=True,
              help="How many versions to write side by side."),
        Param("step_seconds", float, 0.0, 0.0, 5.0, label="Seconds per step",
              help="How long each step waits."),
        Param("fail", bool, False, label="Fail on purpose",
              help="Raise an error instead of producing output."),
        Param("die", bool, False, label="Stop the worker mid-job",
              help="Kill the worker process halfway through."),
        Param("as_file", bool, False, label="Return a file",
              help="Return the text as a file in the media storage."),
        Param("nul", bool, False, label="Add a NUL byte",
              help="Put a NUL byte in the text (PostgreSQL refuses it)."),
    )
    loads = 0

    @classmethod
    def default_model(cls, models_dir: str) -> ModelRef:
        """No weights: a fixed pseudo-model."""
        return ModelRef(source="dummy://echo", revision="1", name="dummy")

    def load(self, model_ref: ModelRef, device: str, dtype: str = "float32") -> None:
        """Count loads, so tests can tell a warm cache from a cold one."""
        type(self).loads += 1

    def generate(self, batch: list[GenerationRequest], progress: Progress) -> list[RequestResult]:
        """Step through, report progress, honour cancellation, then echo."""
        results: list[RequestResult | None] = [None] * len(batch)
        steps = max(r.parameters.get("steps", 1) for r in batch)
        for step in range(steps):
            for i, request in enumerate(batch):
                if results[i] is not None:
                    continue
                if progress.is_cancelled(i):
                    results[i] = RequestResult(outputs=[], cancelled=True)
                    continue
                if request.parameters.get("die") and step >= steps // 2:
                    os.kill(os.getpid(), signal.SIGKILL)
                if request.parameters.get("fail"):
                    raise RuntimeError("the dummy generator was asked to fail")
                progress.update(i, (step + 1) / steps)
            if all(r is not None for r in results):
                break
            time.sleep(max(r.parameters.get("step_seconds", 0.0) for r in batch))
        for i, request in enumerate(batch):
            if results[i] is None:
                outputs = [self._echo(request, variant)
                           for variant in range(request.parameters.get("num_variants", 1))]
                results[i] = RequestResult(
                    outputs=outputs,
                    usage={"input_tokens": len(request.prompt.split()),
                           "output_tokens": sum(len((o.text or o.data.decode()).split())
                                                for o in outputs)},
                )
        return [r for r in results if r is not None]

    @staticmethod
    def _echo(request: GenerationRequest, variant: int) -> GeneratedOutput:
        """The prompt behind a tag from the seed (plus the variant's number after the first)."""
        tag = hashlib.sha256(f"{request.seed + variant}:{request.prompt}".encode()
                             ).hexdigest()[:8]
        text = f"[{tag}] {request.prompt}" + ("\x00" if request.parameters.get("nul") else "")
        if request.parameters.get("as_file"):
            return GeneratedOutput(kind="text", media_type="text/markdown", data=text.encode())
        return GeneratedOutput(kind="text", media_type="text/plain; charset=utf-8", text=text)
