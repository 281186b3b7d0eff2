"""Text generation with any Hugging Face causal language model, batched with per-row sampling.

The token loop is written here instead of calling ``model.generate`` because the platform
promises that a job's seed reproduces its text whether the job ran alone or batched with
others. ``generate()`` only offers the process-wide RNG, which batch neighbours consume;
here every request draws from its own ``torch.Generator``, and every row has its own
sampling parameters, stop strings, progress and cancellation.

torch and transformers are imported lazily: the web process registers this plugin to list
and validate its parameters and should not pay for (or need) the model stack.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from assay import (
    GeneratedOutput,
    GenerationRequest,
    Generator,
    ModelRef,
    Param,
    Progress,
    RequestResult,
    resolve_source,
)

if TYPE_CHECKING:
    import torch

TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"
DEMO_FOLDER = "demo-text"
DEMO_NAME = "assay-demo-text"  # equal to demo_model.DEMO_NAME; kept here to avoid the import
STOP_SEPARATOR = "|"


@dataclass
class _Row:
    """One request's state through the token loop."""

    index: int
    request: GenerationRequest
    prompt_ids: list[int]
    max_new_tokens: int
    temperature: float
    top_p: float
    top_k: int
    repetition_penalty: float
    stops: list[str]
    rng: torch.Generator
    truncated: int = 0
    #: The prompt's last tokens, decoded with the continuation so that tokenizers which
    #: drop a leading space at the start of a decode (SentencePiece) keep it.
    prefix_ids: list[int] = field(default_factory=list)
    prefix_text: str = ""
    generated: list[int] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)
    text: str = ""
    finish_reason: str | None = None  # "eos", "stop", "length" or "cancelled"


class TransformersTextGenerator(Generator):
    """Continues a prompt with a causal LM loaded through ``transformers``."""

    id = "text-transformers"
    modality = "text"
    version = "1.0"
    queue = "gpu.text"
    needs_gpu = False
    max_batch_size = 16
    # Sampling settings, stops and lengths are handled per row, so any requests can share
    # a batch.
    batch_keys = ()
    #: Finished rows leave the batch (their cache rows are dropped) so that one long request
    #: does not keep paying for fifteen short ones. Off only for comparison in tests.
    prune_finished_rows: ClassVar[bool] = True
    description = (
        "Text continuation with a Hugging Face causal language model; "
        "the default is a small demo model built offline."
    )
    parameters = (
        Param("max_new_tokens", int, 64, minimum=1, maximum=1024, help="Most tokens to generate."),
        Param(
            "temperature",
            float,
            0.8,
            minimum=0.0,
            maximum=2.0,
            help="Sampling temperature; 0 picks the most likely token every time (greedy).",
        ),
        Param(
            "top_p",
            float,
            0.9,
            minimum=0.01,
            maximum=1.0,
            help="Nucleus sampling: keep the most likely tokens up to this total probability.",
        ),
        Param(
            "top_k",
            int,
            50,
            minimum=0,
            maximum=1000,
            help="Keep only the k most likely tokens; 0 turns it off.",
        ),
        Param(
            "repetition_penalty",
            float,
            1.1,
            minimum=1.0,
            maximum=2.0,
            help="Above 1 makes tokens already in the text less likely.",
        ),
        Param(
            "stop",
            str,
            "",
            max_length=200,
            help="Stop strings separated by '|'; the text ends before the first one found.",
        ),
        Param(
            "system_prompt",
            str,
            "",
            max_length=4000,
            help="Instructions put before the prompt (as the system message for chat models).",
        ),
    )

    @classmethod
    def default_model(cls, models_dir: str) -> ModelRef:
        """The demo model, built by ``plugins.text_transformers.demo_model``."""
        return ModelRef(source=str(Path(models_dir) / DEMO_FOLDER), revision=None, name=DEMO_NAME)

    def __init__(self) -> None:
        super().__init__()
        self.model: Any = None
        self.tokenizer: Any = None
        self._eos_ids: set[int] = set()
        self._pad_id: int = 0
        self._context: int | None = None
        self._logits_to_keep = False
        self._cache_arg = "cache"

    # -- loading ---------------------------------------------------------------------------

    def load(self, model_ref: ModelRef, device: str, dtype: str = "float32") -> None:
        """Load tokenizer and model from a local folder, or a hub id at a pinned revision.

        A local folder given with a revision must hash to it (:func:`folder_revision`):
        the revision recorded on a job then really names the weights that produced it.
        """
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        hint = (" (build it with `manage.py build_demo_models`)"
                if model_ref.name == DEMO_NAME else "")
        resolved = resolve_source(model_ref, missing_hint=hint)
        load_from, kwargs, local = resolved.load_from, resolved.kwargs, resolved.local
        self.revision, self.licence = resolved.revision, resolved.licence

        if dtype == "auto":
            torch_dtype: Any = "auto"
        else:
            torch_dtype = getattr(torch, dtype, None)
            if not isinstance(torch_dtype, torch.dtype):
                raise ValueError(f"unknown dtype {dtype!r}")
        tokenizer = AutoTokenizer.from_pretrained(load_from, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(load_from, dtype=torch_dtype, **kwargs)
        model.to(device)
        model.eval()
        if not local:
            self.revision = model_ref.revision or getattr(model.config, "_commit_hash", None)

        self._eos_ids = _token_ids(tokenizer.eos_token_id)
        self._eos_ids |= _token_ids(getattr(model.generation_config, "eos_token_id", None))
        if tokenizer.pad_token_id is not None:
            self._pad_id = tokenizer.pad_token_id
        elif self._eos_ids:
            self._pad_id = min(self._eos_ids)
        context = getattr(model.config, "max_position_embeddings", None)
        self._context = int(context) if isinstance(context, int) and context > 1 else None

        accepted = inspect.signature(model.forward).parameters
        self._logits_to_keep = "logits_to_keep" in accepted
        # transformers 5.2x renamed past_key_values to cache (the old name warns, then goes).
        self._cache_arg = "cache" if "cache" in accepted else "past_key_values"
        self.tokenizer, self.model = tokenizer, model
        self.model_ref, self.device, self.dtype = model_ref, device, dtype

    def approximate_size_bytes(self) -> int:
        """Bytes held by parameters and buffers."""
        if self.model is None:
            return 0
        tensors = [*self.model.parameters(), *self.model.buffers()]
        return sum(t.numel() * t.element_size() for t in tensors)

    # -- generation ------------------------------------------------------------------------

    def generate(self, batch: list[GenerationRequest], progress: Progress) -> list[RequestResult]:
        """Continue each prompt; rows sample, stop and cancel on their own."""
        import torch

        if self.model is None:
            raise RuntimeError("load() must be called before generate()")
        results: list[RequestResult | None] = [None] * len(batch)
        running: list[_Row] = []
        for index, request in enumerate(batch):
            row = self._prepare(index, request)
            if progress.is_cancelled(index):  # cancelled while it waited in the queue
                row.finish_reason = "cancelled"
                results[index] = self._result(row)
            else:
                running.append(row)

        if running:
            with torch.inference_mode():
                self._run(running, results, progress)
        missing = [batch[i].job_id for i, r in enumerate(results) if r is None]
        if missing:  # pragma: no cover - every path through _run sets a result
            raise RuntimeError(f"no result for {missing}")
        return [r for r in results if r is not None]

    def _run(
        self, rows: list[_Row], results: list[RequestResult | None], progress: Progress
    ) -> None:
        """The token loop: prefill once, then one batched forward per generated token."""
        import torch

        device = self.model.device
        width = max(len(r.prompt_ids) for r in rows)
        input_ids = torch.full((len(rows), width), self._pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):  # left padding: every row's last token is aligned
            input_ids[i, width - len(row.prompt_ids) :] = torch.tensor(row.prompt_ids)
            mask[i, width - len(row.prompt_ids) :] = 1
        input_ids, mask = input_ids.to(device), mask.to(device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        extra = {"logits_to_keep": 1} if self._logits_to_keep else {}
        out = self.model(
            input_ids=input_ids,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            **extra,  # only the last position's logits: skips the LM head over the prompt
        )
        cache = _cache_of(out)
        last_position = positions[:, -1:]
        prunable = self.prune_finished_rows and hasattr(cache, "reorder_cache")
        batch_rows = list(rows)  # rows in the model batch, finished ones included if unprunable

        while True:
            logits = out.logits[:, -1, :].to("cpu", torch.float64)
            tokens: list[int] = []
            for i, row in enumerate(batch_rows):
                if row.finish_reason is not None:  # kept only when the cache cannot shrink
                    tokens.append(self._pad_id)
                    continue
                token = self._sample(row, logits[i])
                tokens.append(token)
                self._advance(row, token)
                done = row.finish_reason is not None
                progress.update(row.index, 1.0 if done else len(row.generated) / row.max_new_tokens)
                if not done and progress.is_cancelled(row.index):
                    row.finish_reason = "cancelled"
                if row.finish_reason is not None:
                    results[row.index] = self._result(row)

            keep = [i for i, row in enumerate(batch_rows) if row.finish_reason is None]
            if not keep:
                return
            step_ids = torch.tensor(tokens, dtype=torch.long, device=device)[:, None]
            if prunable and len(keep) < len(batch_rows):
                index = torch.tensor(keep, dtype=torch.long, device=device)
                cache.reorder_cache(index)
                batch_rows = [batch_rows[i] for i in keep]
                step_ids, mask, last_position = step_ids[index], mask[index], last_position[index]
            mask = torch.cat([mask, mask.new_ones((len(batch_rows), 1))], dim=-1)
            last_position = last_position + 1
            out = self.model(
                input_ids=step_ids,
                attention_mask=mask,
                position_ids=last_position,
                use_cache=True,
                **{self._cache_arg: cache},
            )
            cache = _cache_of(out)

    def _prepare(self, index: int, request: GenerationRequest) -> _Row:
        """Tokenize the prompt and read the row's parameters (defaults fill any gaps)."""
        import torch

        known = {p.name for p in self.parameters}
        params, errors = self.validate_parameters(
            {k: v for k, v in request.parameters.items() if k in known}
        )
        if errors:  # validated at submission; a bad value here is a bug upstream
            raise ValueError(f"request {request.job_id}: invalid parameters {errors}")
        prompt_ids = self._encode(request.prompt, params["system_prompt"])
        max_new = int(params["max_new_tokens"])
        truncated = 0
        if self._context is not None:
            max_new = min(max_new, self._context - 1)
            room = self._context - max_new
            if len(prompt_ids) > room:  # keep the end of the prompt, nearest the continuation
                truncated = len(prompt_ids) - room
                prompt_ids = prompt_ids[truncated:]
        stops = [s for s in str(params["stop"]).split(STOP_SEPARATOR) if s]
        rng = torch.Generator(device="cpu").manual_seed(int(request.seed))
        return _Row(
            index=index,
            request=request,
            prompt_ids=prompt_ids,
            max_new_tokens=max_new,
            temperature=float(params["temperature"]),
            top_p=float(params["top_p"]),
            top_k=int(params["top_k"]),
            repetition_penalty=float(params["repetition_penalty"]),
            stops=stops,
            rng=rng,
            truncated=truncated,
            seen=set(prompt_ids),
            prefix_ids=prompt_ids[-4:],
            prefix_text=str(self.tokenizer.decode(prompt_ids[-4:], skip_special_tokens=True)),
        )

    def render_prompt(self, prompt: str, system_prompt: str = "") -> tuple[str, bool]:
        """The text fed to the model and whether it already holds the special tokens.

        Chat models get their own template (system + user message, then the assistant's
        turn); base models get the system prompt as a plain first paragraph.
        """
        tokenizer = self.tokenizer
        if getattr(tokenizer, "chat_template", None):
            messages = [{"role": "user", "content": prompt}]
            if system_prompt:
                messages.insert(0, {"role": "system", "content": system_prompt})
            try:
                text = tokenizer.apply_chat_template(
                    messages, tokenize=False, add_generation_prompt=True
                )
            except Exception:  # some templates refuse a system role: merge it into the user's
                if not system_prompt:
                    raise
                merged = [{"role": "user", "content": f"{system_prompt}\n\n{prompt}"}]
                text = tokenizer.apply_chat_template(
                    merged, tokenize=False, add_generation_prompt=True
                )
            return str(text), True
        return (f"{system_prompt}\n\n{prompt}" if system_prompt else prompt), False

    def _encode(self, prompt: str, system_prompt: str) -> list[int]:
        text, templated = self.render_prompt(prompt, system_prompt)
        ids = list(self.tokenizer(text, add_special_tokens=not templated)["input_ids"])
        if not ids:  # an empty prompt on a tokenizer that adds no BOS: start from something
            start = self.tokenizer.bos_token_id
            ids = [start if start is not None else (min(self._eos_ids) if self._eos_ids else 0)]
        return ids

    @staticmethod
    def _sample(row: _Row, logits: torch.Tensor) -> int:
        """Pick the row's next token from float64 logits with the row's own generator.

        Order follows transformers: repetition penalty, temperature, top-k, top-p. The
        draw walks the kept tokens in token-id order, so an ulp-level wobble between a
        batched and an unbatched forward pass can only change the result when the
        uniform draw lands within that wobble of a boundary.
        """
        import torch

        if row.repetition_penalty != 1.0 and row.seen:
            seen = torch.tensor(sorted(row.seen), dtype=torch.long)
            seen = seen[seen < logits.numel()]
            values = logits[seen]
            logits = logits.clone()
            logits[seen] = torch.where(
                values > 0, values / row.repetition_penalty, values * row.repetition_penalty
            )
        if row.temperature <= 0.0:
            return int(torch.argmax(logits))
        logits = logits / row.temperature
        if 0 < row.top_k < logits.numel():
            values, candidates = torch.topk(logits, row.top_k)
        else:
            values, candidates = torch.sort(logits, descending=True)
        probs = torch.softmax(values, dim=-1)
        if row.top_p < 1.0:  # smallest set whose probability reaches top_p, at least one
            before = torch.cumsum(probs, dim=-1) - probs
            count = max(1, int((before < row.top_p).sum()))
            probs, candidates = probs[:count], candidates[:count]
        order = torch.argsort(candidates)
        probs, candidates = probs[order], candidates[order]
        cdf = torch.cumsum(probs, dim=-1)
        draw = torch.rand((), generator=row.rng, dtype=torch.float64) * cdf[-1]
        pick = min(int(torch.searchsorted(cdf, draw, right=True)), len(candidates) - 1)
        return int(candidates[pick])

    def _advance(self, row: _Row, token: int) -> None:
        """Record one sampled token and decide whether the row is finished."""
        if token in self._eos_ids:
            row.generated.append(token)
            row.finish_reason = "eos"
            return
        row.generated.append(token)
        row.seen.add(token)
        if row.stops:  # decode it all: a stop string may span several tokens
            text = self._decode(row)
            hits = [p for p in (text.find(s) for s in row.stops) if p >= 0]
            if hits:
                row.text = text[: min(hits)]
                row.finish_reason = "stop"
                return
        if len(row.generated) >= row.max_new_tokens:
            row.finish_reason = "length"

    def _decode(self, row: _Row) -> str:
        """The continuation's text, without the prompt and without special tokens."""
        ids = [t for t in row.generated if t not in self._eos_ids]
        full = str(self.tokenizer.decode(row.prefix_ids + ids, skip_special_tokens=True))
        if full.startswith(row.prefix_text):
            return full[len(row.prefix_text) :]
        return str(self.tokenizer.decode(ids, skip_special_tokens=True))

    def _result(self, row: _Row) -> RequestResult:
        usage = {"input_tokens": len(row.prompt_ids), "output_tokens": len(row.generated)}
        if row.finish_reason == "cancelled":
            return RequestResult(outputs=[], usage=usage, cancelled=True)
        if row.finish_reason != "stop":
            row.text = self._decode(row)
            if row.finish_reason == "length":  # a cut multi-byte character decodes to U+FFFD
                row.text = row.text.rstrip("\ufffd")
        metadata: dict[str, Any] = {"finish_reason": row.finish_reason}
        if row.truncated:
            metadata["prompt_tokens_dropped"] = row.truncated
        output = GeneratedOutput(
            kind="text", media_type=TEXT_MEDIA_TYPE, text=row.text, metadata=metadata
        )
        return RequestResult(outputs=[output], usage=usage)


def _cache_of(output: Any) -> Any:
    """The key/value cache of a forward pass, under its new name or its old one."""
    return output["cache"] if "cache" in output else output["past_key_values"]


def _token_ids(value: Any) -> set[int]:
    if value is None:
        return set()
    if isinstance(value, int):
        return {value}
    return {int(v) for v in value}
