"""A deterministic, controllable text generator for exercising the job machinery.

It can run slowly (``steps`` × ``step_seconds``) to test progress and cancellation, raise
(``fail``) to test error reporting, and kill its own process (``die``) to test recovery
from a worker that dies mid-job. ``as_file`` returns the text as a file, so the output
goes through the media storage (to test a storage that refuses it); ``nul`` puts a NUL
byte in the text, which PostgreSQL refuses when the output is stored.
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
        Param("steps", int, 1, 1, 1000, help="Progress steps."),
        Param("step_seconds", float, 0.0, 0.0, 5.0, help="Sleep per step."),
        Param("fail", bool, False, help="Raise an error instead of producing output."),
        Param("die", bool, False, help="Kill the worker process mid-job."),
        Param("as_file", bool, False, help="Return the text as a file in the media storage."),
        Param("nul", bool, False, help="Put a NUL byte in the text (PostgreSQL refuses it)."),
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
                tag = hashlib.sha256(f"{request.seed}:{request.prompt}".encode()).hexdigest()[:8]
                text = f"[{tag}] {request.prompt}" + ("\x00" if request.parameters.get("nul")
                                                       else "")
                output = (GeneratedOutput(kind="text", media_type="text/markdown",
                                          data=text.encode())
                          if request.parameters.get("as_file")
                          else GeneratedOutput(kind="text",
                                               media_type="text/plain; charset=utf-8", text=text))
                results[i] = RequestResult(
                    outputs=[output],
                    usage={"input_tokens": len(request.prompt.split()),
                           "output_tokens": len(text.split())},
                )
        return [r for r in results if r is not None]
