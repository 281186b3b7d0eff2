"""Per-request sampling, progress and cancellation inside one batched ``model.generate``.

``MusicgenForConditionalGeneration.generate`` samples every row from the process-wide
RNG, which batch neighbours consume: a job's audio would then depend on who shared its
batch. The platform promises the opposite (same seed, same bytes, alone or batched), so
``generate`` runs greedy here and :class:`RequestSampler`, a logits processor called once
per generated frame (one step = one token for each codebook of each request), draws each
request's tokens itself from that request's own ``torch.Generator``:

- classifier-free guidance is applied here, per request, in float64 on the CPU: MusicGen
  stacks [conditional rows, unconditional rows] and appends its own guidance processor
  after ours, so the processor returns both halves equal (guidance of equal halves gives
  them back exactly);
- the model's top-k and temperature are applied here too, then one token per row is drawn;
- the returned scores are 0 for the drawn token and a large finite negative elsewhere, so
  the argmax (or any sampling) picks it.

The same call reports progress per request (fraction of that request's own steps) and
checks cancellation; once every running request is cancelled it raises
:class:`GenerationCancelled`, which stops ``generate`` at the current frame.

torch is imported inside the methods: the generator module imports this one, and the
web process imports the generator to list its parameters without the model stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay import GenerationCancelled, Progress

if TYPE_CHECKING:
    import torch

#: What the processor gives every token it did not draw: far below 0 yet finite, so that
#: MusicGen's guidance step (uncond + (cond - uncond) x scale) never computes inf - inf.
NOT_DRAWN = -1.0e4


@dataclass
class Row:
    """One request in the call: where it is in the batch, its seed and its length."""

    index: int  # position in the generator's batch (for progress and cancellation)
    steps: int  # generation steps this request needs (frames + codebook delay)
    rng: torch.Generator


class RequestSampler:
    """A ``LogitsProcessor`` that samples each request from its own generator.

    Args:
        rows: the running requests, in the order of the model's batch.
        codebooks: tokens per request per step (MusicGen's ``num_codebooks``).
        guidance: classifier-free guidance scale; 1 or less means none.
        top_k: keep only the k most likely codes (0: all).
        temperature: divides the guided logits before sampling.
        progress: the generator's progress, indexed by ``Row.index``.
    """

    def __init__(self, rows: list[Row], *, codebooks: int, guidance: float, top_k: int,
                 temperature: float, progress: Progress) -> None:
        self.rows, self.codebooks, self.guidance = rows, codebooks, guidance
        self.top_k, self.temperature, self.progress = top_k, temperature, progress
        self.step = 0  # steps done so far

    def __call__(self, input_ids: Any, scores: torch.Tensor) -> torch.Tensor:
        """Draw this step's tokens; report progress; stop when everyone cancelled."""
        import torch

        width = len(self.rows) * self.codebooks
        guided = scores.shape[0] == 2 * width
        if scores.shape[0] not in (width, 2 * width):
            raise RuntimeError(f"expected {width} or {2 * width} rows of scores, "
                               f"got {scores.shape[0]}")
        logits = scores.detach().to("cpu", torch.float64)
        if guided:
            cond, uncond = logits[:width], logits[width:]
            logits = uncond + (cond - uncond) * self.guidance
        chosen = torch.empty(width, dtype=torch.long)
        for i, row in enumerate(self.rows):
            block = slice(i * self.codebooks, (i + 1) * self.codebooks)
            chosen[block] = self._draw(logits[block], row.rng)
        out = torch.full((width, scores.shape[1]), NOT_DRAWN, dtype=torch.float64)
        out[torch.arange(width), chosen] = 0.0
        out = out.to(device=scores.device, dtype=scores.dtype)
        self.step += 1
        self._report()
        return torch.cat([out, out]) if guided else out

    def _draw(self, logits: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """One token per codebook row: top-k, temperature, softmax, multinomial."""
        import torch

        if 0 < self.top_k < logits.shape[-1]:
            values, positions = logits.topk(self.top_k, dim=-1)
        else:
            values = logits
            positions = torch.arange(logits.shape[-1]).expand_as(logits)
        probs = torch.softmax(values / max(self.temperature, 1e-6), dim=-1)
        picks = torch.multinomial(probs, 1, generator=rng)
        return positions.gather(-1, picks)[:, 0]

    def _report(self) -> None:
        """Progress per request; GenerationCancelled once every request is cancelled."""
        running = False
        for row in self.rows:
            self.progress.update(row.index, min(1.0, self.step / row.steps))
            if not self.progress.is_cancelled(row.index):
                running = True
        if not running:
            raise GenerationCancelled(f"cancelled after {self.step} steps")
