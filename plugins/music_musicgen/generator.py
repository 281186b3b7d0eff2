"""Text-to-music with MusicGen (``MusicgenForConditionalGeneration`` from ``transformers``).

A batch runs as one ``model.generate`` call per (guidance, duration), normally exactly one:
the batcher only puts equal ``batch_keys`` together. The prompts are tokenized and encoded
together, and the decoder steps all of them at once. What batching must not change, a
job's audio for its seed, is kept by :class:`~plugins.music_musicgen.sampling.RequestSampler`
(each request draws from its own generator) and by decoding each request's codes to audio
alone (EnCodec's batched decode is skipped: see :func:`_codes_only`).

Duration maps to frames through the audio codec: ``ceil(seconds x sampling rate / hop)``
frames, plus one step per extra codebook for MusicGen's delay pattern; the waveform is cut
to exactly ``round(seconds x sampling rate)`` samples. Durations are never mixed in one
call: MusicGen's last frames depend on where the sequence ends (the delay pattern pads the
first codebooks there), so a 2-second clip cut from a 3-second run is not the 2-second clip.

torch and transformers are imported lazily: every web process imports this module to list
and validate the generator's parameters and should not pay for the model stack.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

from assay import (
    GeneratedOutput,
    GenerationCancelled,
    GenerationRequest,
    Generator,
    ModelRef,
    Param,
    Progress,
    RequestResult,
    clean_parameters,
    resolve_model,
    run_in_groups,
    tensor_bytes,
    torch_dtype,
)
from plugins.music_musicgen.sampling import RequestSampler, Row
from plugins.music_musicgen.wav import encode_wav

DEMO_FOLDER = "demo-music"
DEMO_NAME = "assay-demo-music"  # equal to demo_model.DEMO_NAME; kept here to avoid the import
WAV = "audio/wav"
MIN_SECONDS, MAX_SECONDS = 1.0, 30.0


@dataclass
class _Job:
    """One request's share of a generate call."""

    index: int
    request: GenerationRequest
    seconds: float
    guidance: float


class MusicgenAudioGenerator(Generator):
    """Music (or sound) from a text prompt, with MusicGen through ``transformers``."""

    id = "music-musicgen"
    modality = "audio"
    version = "1.0"
    queue = "gpu.audio"
    needs_gpu = False  # runs on CPU too, slowly for real models
    max_batch_size = 8
    # One guidance scale and one length per generate call (see the module docstring). A
    # mixed batch still works (one call per setting) and gives the same bytes.
    batch_keys = ("duration", "guidance")
    description = (
        "Music from a text description with MusicGen (transformers), as a WAV file. The "
        "default is a tiny demo model built offline that makes noise until a real model "
        "is registered."
    )
    parameters = (
        Param(
            "duration",
            float,
            5.0,
            minimum=MIN_SECONDS,
            maximum=MAX_SECONDS,
            label="Length (seconds)",
            plain=True,
            help="How long the music is, in seconds.",
        ),
        Param(
            "guidance",
            float,
            3.0,
            minimum=1.0,
            maximum=10.0,
            label="Follow the description",
            help="How closely the music sticks to the description; 1 lets the model "
                 "roam freely, 3 is usual.",
        ),
    )

    #: Give each request its own generate call instead of one per batch. Batched, a job's
    #: draws are its own, but the logits they are drawn from come from batched kernels: on
    #: the CPU in float32 these match an unbatched run bit for bit (the tests check it); on
    #: a GPU in bf16/fp16 a last-bit difference can flip a draw now and then, and a flipped
    #: code changes the rest of the clip. Set True on a subclass where byte-identical
    #: batches matter more than throughput there.
    one_call_per_request: ClassVar[bool] = False

    @classmethod
    def default_model(cls, models_dir: str) -> ModelRef:
        """The demo model, built by ``plugins.music_musicgen.demo_model``."""
        return ModelRef(source=str(Path(models_dir) / DEMO_FOLDER), revision=None,
                        name=DEMO_NAME)

    def __init__(self) -> None:
        super().__init__()
        self.model: Any = None
        self.tokenizer: Any = None
        self.sampling_rate = 0
        self.hop = 0
        self.codebooks = 0
        self.delay = 0
        self.top_k = 0
        self.temperature = 1.0

    # -- loading ---------------------------------------------------------------------------

    def load(self, model_ref: ModelRef, device: str, dtype: str = "float32") -> None:
        """Load tokenizer and model from a local folder, or a hub id at a pinned revision.

        A local folder given with a revision must hash to it (``folder_revision``): the
        revision recorded on a job then really names the weights that produced it.
        """
        import torch
        from transformers import AutoTokenizer, MusicgenForConditionalGeneration

        load_dtype = torch_dtype(torch, dtype)  # an unknown dtype fails before any file
        resolved = resolve_model(model_ref, DEMO_NAME)
        self.revision, self.licence = resolved.revision, resolved.licence
        tokenizer = AutoTokenizer.from_pretrained(resolved.load_from, **resolved.kwargs)
        model = MusicgenForConditionalGeneration.from_pretrained(
            resolved.load_from, dtype=load_dtype, **resolved.kwargs)
        if model.config.decoder.audio_channels not in (1, 2):  # pragma: no cover - config
            raise ValueError("MusicGen models are mono or stereo")
        model.to(device)
        model.eval()
        audio = model.config.audio_encoder
        self.sampling_rate, self.hop = int(audio.sampling_rate), int(audio.hop_length)
        self.codebooks = int(model.decoder.num_codebooks)
        # Codebook k starts k steps late; stereo models interleave left and right codebooks,
        # which share their delays.
        self.delay = self.codebooks // int(model.config.decoder.audio_channels) - 1
        config = model.generation_config
        self.top_k = int(config.top_k or 0)
        self.temperature = float(config.temperature or 1.0)
        if not resolved.local:
            self.revision = model_ref.revision or getattr(model.config, "_commit_hash", None)
        self.tokenizer, self.model = tokenizer, model
        self.model_ref, self.device, self.dtype = model_ref, device, dtype

    def approximate_size_bytes(self) -> int:
        """Bytes held by parameters and buffers (text encoder, decoder and codec)."""
        return tensor_bytes(self.model)

    def frames_for(self, seconds: float) -> int:
        """Codec frames that cover ``seconds`` of audio (50 a second for MusicGen)."""
        return math.ceil(round(seconds * self.sampling_rate) / self.hop)

    # -- generation ------------------------------------------------------------------------

    def generate(self, batch: list[GenerationRequest], progress: Progress) -> list[RequestResult]:
        """Run the batch as one generate call per guidance and length (normally one).

        Requests cancelled before the start are left out; if every running request is
        cancelled mid-way the call stops at the current frame; requests cancelled while
        others go on finish with the batch and are returned cancelled, without outputs.
        """
        import torch

        if self.model is None:
            raise RuntimeError("load() must be called before generate()")
        with torch.inference_mode():
            return run_in_groups(batch, progress, self._plan,
                                 lambda jobs: self._run(jobs, progress),
                                 cancelled_usage={"audio_seconds": 0.0})

    def _plan(self, index: int, request: GenerationRequest) -> tuple[tuple[float, ...], _Job]:
        """A request's call key (guidance and length; and its index, one call each, with
        ``one_call_per_request``) and job."""
        params = clean_parameters(self, request)
        job = _Job(index, request, float(params["duration"]), float(params["guidance"]))
        key: tuple[float, ...] = (job.guidance, self.frames_for(job.seconds))
        if self.one_call_per_request:
            key += (index,)
        return key, job

    def _run(self, jobs: list[_Job], progress: Progress) -> list[RequestResult]:
        """One generate call for requests that share guidance and length."""
        import torch
        from transformers import LogitsProcessorList

        frames = self.frames_for(jobs[0].seconds)
        delay = self.delay
        # CPU generators on every device: the same seed draws the same codes on a GPU.
        rows = [Row(job.index, frames + delay,
                    torch.Generator("cpu").manual_seed(job.request.seed)) for job in jobs]
        guidance = jobs[0].guidance
        sampler = RequestSampler(rows, codebooks=self.codebooks, guidance=guidance,
                                 top_k=self.top_k, temperature=self.temperature,
                                 progress=progress)
        # Truncated to the tokenizer's limit (512 tokens for MusicGen's T5): a description
        # longer than that is far past what the model was trained on anyway.
        inputs = self.tokenizer([job.request.prompt for job in jobs], padding=True,
                                truncation=True, return_tensors="pt").to(self.model.device)
        try:
            with _codes_only(self.model.audio_encoder) as codes:
                self.model.generate(
                    input_ids=inputs["input_ids"],
                    attention_mask=inputs["attention_mask"],
                    max_new_tokens=frames + delay,
                    do_sample=False,  # the sampler draws; greedy then takes its token
                    guidance_scale=guidance,  # > 1 doubles the rows (conditional first)
                    logits_processor=LogitsProcessorList([sampler]),
                )
        except GenerationCancelled:
            usage = {"audio_seconds": 0.0, "frames": 0, "steps": sampler.step}
            return [RequestResult(outputs=[], usage=dict(usage), cancelled=True)
                    for _ in jobs]

        results = []
        for i, job in enumerate(jobs):
            if progress.is_cancelled(job.index):
                results.append(RequestResult(outputs=[], usage={"audio_seconds": 0.0},
                                             cancelled=True))
                continue
            samples = round(job.seconds * self.sampling_rate)
            audio = self._decode([part[:, i : i + 1] for part in codes], samples)
            seconds = audio.shape[0] / self.sampling_rate
            output = GeneratedOutput(
                kind="audio",
                media_type=WAV,
                data=encode_wav(audio, self.sampling_rate),
                metadata={"seed": job.request.seed, "duration_seconds": seconds,
                          "sample_rate": self.sampling_rate, "channels": audio.shape[1]},
            )
            progress.update(job.index, 1.0)
            results.append(RequestResult(outputs=[output],
                                         usage={"audio_seconds": seconds, "frames": frames}))
        return results

    def _decode(self, parts: list[Any], samples: int) -> Any:
        """One request's codes (one part per channel) to a (samples, channels) float array."""
        import torch

        codec = self.model.audio_encoder
        channels = [codec.decode(part.clone(), audio_scales=[None]).audio_values
                    for part in parts]
        audio = torch.cat(channels, dim=1)[0, :, :samples]  # (channels, samples)
        return audio.to("cpu", torch.float32).numpy().T


@contextlib.contextmanager
def _codes_only(codec: Any) -> Iterator[list[Any]]:
    """Capture the codes ``generate`` hands to EnCodec, instead of decoding them batched.

    MusicGen's generate ends by decoding the whole batch's codes at once (twice for stereo:
    left then right). Here that call only records the codes (shape 1 x batch x codebooks x
    frames), so each request is decoded alone afterwards, in tensors of the same shape as
    in an unbatched run. The instance attribute is removed again on the way out, whatever
    happens, which brings back the class's own ``decode``.
    """
    captured: list[Any] = []

    def record(audio_codes: Any, *args: Any, **kwargs: Any) -> Any:
        captured.append(audio_codes)
        # An empty waveform per request (stereo generate concatenates the two channels).
        return SimpleNamespace(audio_values=audio_codes.new_zeros((audio_codes.shape[1], 1, 0)))

    codec.decode = record
    try:
        yield captured
    finally:
        codec.__dict__.pop("decode", None)
