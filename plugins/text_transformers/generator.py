"""Text generation with any Hugging Face causal language model, batched with per-row sampling.

The token loop is written here instead of calling ``model.generate`` because the platform
promises that a job's seed reproduces its text whether the job ran alone or batched with
others. ``generate()`` only offers the process-wide RNG, which batch neighbours consume;
here every row (one variant of one request: ``num_variants`` rows per request, variant k
seeded with the job's seed + k) draws from its own ``torch.Generator`` and has its own
sampling parameters and stop strings; progress and cancellation are per request.

torch and transformers are imported lazily: the web process registers this plugin to list
and validate its parameters and should not pay for (or need) the model stack.
"""

from __future__ import annotations

import inspect
import os
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
    clean_parameters,
    read_stamp,
    resolve_model,
    tensor_bytes,
    torch_dtype,
)

if TYPE_CHECKING:
    import torch

TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"
DEMO_FOLDER = "demo-text"
DEMO_NAME = "assay-demo-text"  # equal to demo_model.DEMO_NAME; kept here to avoid the import
INSTRUCT_FOLDER = "instruct-text"
INSTRUCT_NAME = "smollm2-135m-instruct"  # equal to instruct_model.INSTRUCT_NAME
#: Which demo model is the default: "instruct" (SmolLM2, real copy) or "tiny" (the model
#: trained in seconds, for fast tests). Declared in assay.conf and the README.
DEMO_MODEL_SETTING = "ASSAY_TEXT_DEMO_MODEL"
DEMO_MODEL_CHOICES = ("instruct", "tiny")
STOP_SEPARATOR = "|"
MAX_VARIANTS = 4


def demo_model_choice() -> str:
    """The ``ASSAY_TEXT_DEMO_MODEL`` setting: ``instruct`` (the default) or ``tiny``.

    Read from the environment here because a plugin imports only the ``assay`` facade,
    not Django settings; the setting is declared (and documented) in ``assay.conf`` like
    every other, and the test settings set it to ``tiny``.

    Raises:
        ValueError: any other value, naming the variable.
    """
    value = (os.environ.get(DEMO_MODEL_SETTING) or "instruct").strip().lower()
    if value not in DEMO_MODEL_CHOICES:
        raise ValueError(f"{DEMO_MODEL_SETTING}={value!r} is not one of "
                         f"{', '.join(DEMO_MODEL_CHOICES)}")
    return value


@dataclass
class _Row:
    """One variant of one request through the token loop."""

    index: int  # the request's position in the batch (progress and cancellation use it)
    variant: int  # 0 for the first output; variant k samples with the seed plus k
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
        "Marketing copy from a Hugging Face causal language model; the default is "
        "SmolLM2-135M-Instruct, converted locally (a tiny demo model serves the tests)."
    )
    parameters = (
        Param(
            "max_new_tokens",
            int,
            64,
            minimum=1,
            maximum=1024,
            label="Length",
            plain=True,
            help="Roughly how long the copy is, in tokens (about ¾ of a word each).",
        ),
        Param(
            "temperature",
            float,
            0.8,
            minimum=0.0,
            maximum=2.0,
            label="Creativity",
            plain=True,
            help="Higher is more surprising, lower is safer; 0 always picks the most "
                 "likely word, so the copy comes out the same every time.",
        ),
        Param(
            "num_variants",
            int,
            1,
            minimum=1,
            maximum=MAX_VARIANTS,
            label="Number of variants",
            plain=True,
            help="How many different versions to write at once, to compare side by side.",
        ),
        Param(
            "top_p",
            float,
            0.9,
            minimum=0.01,
            maximum=1.0,
            label="Word choice range",
            help="Only the most likely words that together make up this share of the "
                 "chances are considered; 1 considers them all.",
        ),
        Param(
            "top_k",
            int,
            50,
            minimum=0,
            maximum=1000,
            label="Candidate words",
            help="Only this many of the most likely next words are considered; 0 means "
                 "no limit.",
        ),
        Param(
            "repetition_penalty",
            float,
            1.1,
            minimum=1.0,
            maximum=2.0,
            label="Avoid repeating words",
            help="Above 1 makes words already used less likely to come back.",
        ),
        Param(
            "stop",
            str,
            "",
            max_length=200,
            label="Stop at",
            help="Text that ends the copy where it first appears (left out of the copy); "
                 "separate several with |.",
        ),
        Param(
            "system_prompt",
            str,
            "",
            max_length=4000,
            label="Instructions",
            help="Guidance the model reads before the prompt, such as tone of voice or "
                 "who the copy is for.",
        ),
    )

    @classmethod
    def demo_models(cls, models_dir: str) -> list[ModelRef]:
        """Both demo models this plugin builds, default first.

        SmolLM2-135M-Instruct (``plugins.text_transformers.instruct_model``) writes real
        copy; the tiny model (``plugins.text_transformers.demo_model``) trains in seconds
        and keeps the test suite fast. ``ASSAY_TEXT_DEMO_MODEL`` picks the default.
        """
        root = Path(models_dir)
        tiny = ModelRef(source=str(root / DEMO_FOLDER), revision=None, name=DEMO_NAME)
        instruct = ModelRef(source=str(root / INSTRUCT_FOLDER), revision=None,
                            name=INSTRUCT_NAME)
        return [instruct, tiny] if demo_model_choice() == "instruct" else [tiny, instruct]

    @classmethod
    def default_model(cls, models_dir: str) -> ModelRef:
        """The first of :meth:`demo_models` that is built; the tiny one when neither is
        (its missing folder then says how to build it)."""
        refs = cls.demo_models(models_dir)
        for ref in refs:
            if read_stamp(ref.source) is not None:
                return ref
        return next(ref for ref in refs if ref.name == DEMO_NAME)

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

        resolved = resolve_model(model_ref, DEMO_NAME, INSTRUCT_NAME)
        load_from, kwargs, local = resolved.load_from, resolved.kwargs, resolved.local
        self.revision, self.licence = resolved.revision, resolved.licence

        load_dtype: Any = "auto" if dtype == "auto" else torch_dtype(torch, dtype)
        tokenizer = AutoTokenizer.from_pretrained(load_from, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(load_from, dtype=load_dtype, **kwargs)
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
        return tensor_bytes(self.model)

    # -- generation ------------------------------------------------------------------------

    def generate(self, batch: list[GenerationRequest], progress: Progress) -> list[RequestResult]:
        """Answer each prompt; rows sample, stop and cancel on their own.

        A request with ``num_variants`` = n becomes n rows of the same batch, variant k
        drawing from its own generator seeded ``seed + k``: each variant is the text a
        one-variant job with that seed writes, alone or batched.
        """
        import torch

        if self.model is None:
            raise RuntimeError("load() must be called before generate()")
        requests: list[list[_Row]] = []
        running: list[_Row] = []
        for index, request in enumerate(batch):
            rows = self._prepare(index, request)
            requests.append(rows)
            if progress.is_cancelled(index):  # cancelled while it waited in the queue
                for row in rows:
                    row.finish_reason = "cancelled"
            else:
                running.extend(rows)

        if running:
            with torch.inference_mode():
                self._run(running, progress)
        unfinished = [r.request.job_id for r in running if r.finish_reason is None]
        if unfinished:  # pragma: no cover - _run returns only when every row finished
            raise RuntimeError(f"no result for {unfinished}")
        return [self._result(rows) for rows in requests]

    def _run(self, rows: list[_Row], progress: Progress) -> None:
        """The token loop: prefill once, then one batched forward per generated token."""
        import torch

        variants: dict[int, list[_Row]] = {}
        for row in rows:
            variants.setdefault(row.index, []).append(row)

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
            stepped: dict[int, None] = {}  # requests that sampled this step, in order
            for i, row in enumerate(batch_rows):
                if row.finish_reason is not None:  # kept only when the cache cannot shrink
                    tokens.append(self._pad_id)
                    continue
                token = self._sample(row, logits[i])
                tokens.append(token)
                self._advance(row, token)
                stepped[row.index] = None
            for index in stepped:  # one update (and one cancel check) per request
                siblings = variants[index]
                progress.update(index, _fraction_done(siblings))
                if progress.is_cancelled(index):
                    for row in siblings:
                        if row.finish_reason is None:
                            row.finish_reason = "cancelled"

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

    def _prepare(self, index: int, request: GenerationRequest) -> list[_Row]:
        """Tokenize the prompt once and make one row per variant (defaults fill any gaps)."""
        import torch

        params = clean_parameters(self, request)
        prompt_ids, templated = self._encode(request.prompt, params["system_prompt"])
        max_new = int(params["max_new_tokens"])
        truncated = 0
        if self._context is not None:
            max_new = min(max_new, self._context - 1)
            room = self._context - max_new
            if len(prompt_ids) > room:  # keep the end of the prompt, nearest the continuation
                truncated = len(prompt_ids) - room
                prompt_ids = prompt_ids[truncated:]
        stops = [s for s in str(params["stop"]).split(STOP_SEPARATOR) if s]
        prefix_text = str(self.tokenizer.decode(prompt_ids[-4:], skip_special_tokens=True))
        return [
            _Row(
                index=index,
                variant=variant,
                request=request,
                prompt_ids=prompt_ids,
                max_new_tokens=max_new,
                temperature=float(params["temperature"]),
                top_p=float(params["top_p"]),
                top_k=int(params["top_k"]),
                repetition_penalty=float(params["repetition_penalty"]),
                stops=stops,
                rng=torch.Generator(device="cpu").manual_seed(variant_seed(request.seed, variant)),
                truncated=truncated,
                # A chat model's prompt is the request, not the start of the copy: the
                # penalty then covers only the answer, or it would steer the model away
                # from the very product name it was asked to use (measured: 2 of 8
                # SmolLM2 variants named the product with the prompt penalised, 4 of 8
                # without). A base model continues its prompt, which counts as written.
                seen=set() if templated else set(prompt_ids),
                prefix_ids=prompt_ids[-4:],
                prefix_text=prefix_text,
            )
            for variant in range(int(params["num_variants"]))
        ]

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

    def _encode(self, prompt: str, system_prompt: str) -> tuple[list[int], bool]:
        """The prompt's token ids, and whether a chat template framed them."""
        text, templated = self.render_prompt(prompt, system_prompt)
        ids = list(self.tokenizer(text, add_special_tokens=not templated)["input_ids"])
        if not ids:  # an empty prompt on a tokenizer that adds no BOS: start from something
            start = self.tokenizer.bos_token_id
            ids = [start if start is not None else (min(self._eos_ids) if self._eos_ids else 0)]
        return ids, templated

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

    def _text_of(self, row: _Row) -> str:
        """A finished row's text (a stop string already cut it)."""
        if row.finish_reason != "stop":
            row.text = self._decode(row)
            if row.finish_reason == "length":  # a cut multi-byte character decodes to U+FFFD
                row.text = row.text.rstrip("\ufffd")
        return row.text

    def _result(self, rows: list[_Row]) -> RequestResult:
        """One request's result: one output per variant, in variant order.

        Usage adds up every variant's tokens (each variant reads the prompt and writes
        its own text). A request cancelled in any variant is cancelled as a whole.
        """
        usage = {"input_tokens": sum(len(r.prompt_ids) for r in rows),
                 "output_tokens": sum(len(r.generated) for r in rows)}
        if any(r.finish_reason == "cancelled" for r in rows):
            return RequestResult(outputs=[], usage=usage, cancelled=True)
        outputs = []
        for row in rows:
            metadata: dict[str, Any] = {"finish_reason": row.finish_reason}
            if len(rows) > 1:  # which seed reproduces this variant as a one-variant job
                metadata.update(variant=row.variant,
                                seed=variant_seed(row.request.seed, row.variant))
            if row.truncated:
                metadata["prompt_tokens_dropped"] = row.truncated
            outputs.append(GeneratedOutput(kind="text", media_type=TEXT_MEDIA_TYPE,
                                           text=self._text_of(row), metadata=metadata))
        return RequestResult(outputs=outputs, usage=usage)


def variant_seed(seed: int, variant: int) -> int:
    """The seed variant ``variant`` samples with: the job's seed plus k, kept in the seed's
    range (0 to 2**32 - 1) so that it is itself a valid seed for a one-variant job."""
    return (int(seed) + variant) % 2**32


def _fraction_done(rows: list[_Row]) -> float:
    """How far a request is: its variants' progress, averaged (1.0 once all finished)."""
    done = [1.0 if r.finish_reason is not None else len(r.generated) / r.max_new_tokens
            for r in rows]
    return sum(done) / len(done)


def _cache_of(output: Any) -> Any:
    """The key/value cache of a forward pass, under its new name or its old one."""
    return output["cache"] if "cache" in output else output["past_key_values"]


def _token_ids(value: Any) -> set[int]:
    if value is None:
        return set()
    if isinstance(value, int):
        return {value}
    return {int(v) for v in value}
