"""Text to speech with VITS models from ``transformers`` (the MMS-TTS family).

The platform promises that a job's seed reproduces its audio byte for byte, whether the
job ran alone or batched with others. ``VitsModel`` cannot keep that promise in a padded
batch: it draws its noise (duration predictor and prior) with ``torch.randn`` from the
process-wide generator, over the whole padded batch, so a request's noise would depend on
its neighbours' number and lengths. So "batched" here means: one ``generate`` call takes
up to ``max_batch_size`` requests, with any mix of voices, rates and formats, and shares
the loaded model, one progress stream and cancellation between requests; inside it the
model runs each request on its own, with the process-wide RNG seeded from the request's
seed (inside ``torch.random.fork_rng``, so nothing else's randomness moves). A request's
tensors are then exactly those of an unbatched run, and so are its bytes. VITS is fast
(a sentence takes tens of milliseconds on a GPU), so a batch costs one queue round trip
and one model load instead of many, which is where batching pays for this family.

torch and transformers are imported lazily: every web process imports this module to
list and validate the generator's parameters and should not pay for the model stack.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assay import (
    GeneratedOutput,
    GenerationRequest,
    Generator,
    ModelRef,
    Param,
    Progress,
    RequestResult,
    clean_parameters,
    resolve_model,
    tensor_bytes,
    torch_dtype,
)
from plugins.speech_vits.encoding import FORMATS, encode, media_type

DEMO_FOLDER = "demo-speech"
DEMO_NAME = "assay-demo-speech"  # equal to demo_model.DEMO_NAME; kept here to avoid the import
#: The longest script spoken in one piece: VITS attends over the whole text at once
#: (memory grows with the square of its length); about two and a half minutes of speech.
MAX_SCRIPT_CHARS = 2000
#: The largest speaker index accepted before the model is known; the model then refuses
#: an index beyond its own voices (multi-speaker VITS checkpoints have about a hundred).
MAX_SPEAKER = 1023
#: The stages of one forward pass that report progress and look for a cancellation.
_STAGES = ("text_encoder", "duration_predictor", "flow", "decoder")


def script_of(request: GenerationRequest) -> str:
    """What a request speaks: the text of its script asset when the job started from one
    (the asset is then the output's parent and its provenance ingredient), else the
    rendered prompt."""
    script = request.inputs.get("script")
    return script.decode("utf-8") if script is not None else request.prompt


class _Cancelled(Exception):
    """Raised from a stage hook when the running request was cancelled."""


class VitsSpeechGenerator(Generator):
    """Speech from a VITS text-to-speech model: WAV by default, MP3 or Ogg on request."""

    id = "speech-vits"
    modality = "audio"
    version = "1.0"
    queue = "gpu.audio"
    needs_gpu = False  # VITS is light: real MMS-TTS voices run on a CPU too
    #: Requests run one after another inside the call (see the module docstring), so any
    #: voices, rates and formats may share a batch.
    max_batch_size = 8
    parent_kinds = ("text",)  # a script asset: its text is what is spoken
    batch_keys = ()
    description = (
        "Speech from a VITS text-to-speech model (MMS-TTS voices): the prompt is the script "
        "read aloud. The default is a tiny demo model built offline whose audio is noise "
        "until a real voice is registered."
    )
    parameters = (
        Param(
            "speaker",
            int,
            0,
            minimum=0,
            maximum=MAX_SPEAKER,
            label="Voice",
            plain=True,
            help="Which of the model's voices reads the script (0 is the first). Only "
                 "models with several voices offer a choice; a one-voice model takes 0.",
        ),
        Param(
            "speaking_rate",
            float,
            1.0,
            minimum=0.5,
            maximum=2.0,
            label="Speaking speed",
            plain=True,
            help="How fast the voice speaks: 1 is the model's own pace, 2 twice as fast, "
                 "0.5 half as fast.",
        ),
        Param(
            "format",
            str,
            "wav",
            choices=tuple(FORMATS),
            label="File format",
            help="WAV (uncompressed, the default), MP3 or Ogg Vorbis (smaller files).",
        ),
    )

    @classmethod
    def default_model(cls, models_dir: str) -> ModelRef:
        """The demo voice, built by ``plugins.speech_vits.demo_model``."""
        return ModelRef(source=str(Path(models_dir) / DEMO_FOLDER), revision=None, name=DEMO_NAME)

    def __init__(self) -> None:
        super().__init__()
        self.model: Any = None
        self.tokenizer: Any = None

    # -- loading ---------------------------------------------------------------------------

    def load(self, model_ref: ModelRef, device: str, dtype: str = "float32") -> None:
        """Load tokenizer and model from a local folder, or a hub id at a pinned revision.

        A local folder given with a revision must hash to it (``folder_revision``): the
        revision recorded on a job then really names the weights that produced it.
        """
        import torch
        from transformers import VitsModel, VitsTokenizer

        load_dtype = torch_dtype(torch, dtype)  # an unknown dtype fails before any file
        resolved = resolve_model(model_ref, DEMO_NAME)
        self.revision, self.licence = resolved.revision, resolved.licence
        tokenizer = VitsTokenizer.from_pretrained(resolved.load_from, **resolved.kwargs)
        model = VitsModel.from_pretrained(resolved.load_from, dtype=load_dtype,
                                          **resolved.kwargs)
        model.to(device)
        model.eval()
        self.model, self.tokenizer = model, tokenizer
        self.model_ref, self.device, self.dtype = model_ref, device, dtype

    @property
    def num_speakers(self) -> int:
        """How many voices the loaded model has (1 for MMS-TTS)."""
        return int(getattr(self.model.config, "num_speakers", 1) or 1)

    @property
    def sample_rate(self) -> int:
        """Samples per second of the loaded model's audio (16 kHz for MMS-TTS)."""
        return int(self.model.config.sampling_rate)

    def approximate_size_bytes(self) -> int:
        """Bytes held by the model's parameters and buffers."""
        return tensor_bytes(self.model)

    # -- generation ------------------------------------------------------------------------

    def generate(self, batch: list[GenerationRequest], progress: Progress) -> list[RequestResult]:
        """Speak each request's prompt in turn, each seeded alone (see the module docstring).

        A request cancelled before its turn is skipped; one cancelled while it runs stops
        at the next stage of the model. Either way it is returned cancelled, without
        outputs, and the others go on.

        Raises:
            ValueError: a script that is empty once tokenized or too long, or a voice the
                model does not have (the message names the job).
        """
        import torch

        if self.model is None:
            raise RuntimeError("load() must be called before generate()")
        prepared = [self._prepare(request) for request in batch]  # refuse before any work
        results: list[RequestResult] = []
        with torch.inference_mode():
            for index, (request, (params, inputs)) in enumerate(zip(batch, prepared,
                                                                    strict=True)):
                usage = {"audio_seconds": 0.0, "input_characters": len(script_of(request))}
                if progress.is_cancelled(index):
                    results.append(RequestResult(outputs=[], usage=usage, cancelled=True))
                    continue
                try:
                    with self._stages(index, progress):
                        samples = self._speak(inputs, params, request.seed)
                except _Cancelled:
                    results.append(RequestResult(outputs=[], usage=usage, cancelled=True))
                    continue
                results.append(self._result(request, params, samples, usage))
                progress.update(index, 1.0)
        return results

    def _prepare(self, request: GenerationRequest) -> tuple[dict[str, Any], dict[str, Any]]:
        """The request's parameters with defaults, and its tokenized script on the device."""
        params = clean_parameters(self, request, include_seed=True)
        if params["speaker"] >= self.num_speakers:
            voices = ("one voice (0)" if self.num_speakers == 1
                      else f"{self.num_speakers} voices (0 to {self.num_speakers - 1})")
            raise ValueError(f"request {request.job_id}: voice {params['speaker']} asked, but "
                             f"this model has {voices}")
        script = script_of(request)
        if len(script) > MAX_SCRIPT_CHARS:
            raise ValueError(f"request {request.job_id}: the script is {len(script)} "
                             f"characters long; at most {MAX_SCRIPT_CHARS} are spoken at once")
        inputs = self.tokenizer(script, return_tensors="pt")
        blank = self.tokenizer.pad_token_id  # VitsTokenizer puts it between characters
        if int((inputs["input_ids"] != blank).sum()) == 0:
            raise ValueError(f"request {request.job_id}: nothing in the script can be spoken "
                             "by this voice (no letters it knows)")
        return params, {k: v.to(self.model.device) for k, v in inputs.items()}

    def _speak(self, inputs: dict[str, Any], params: dict[str, Any], seed: int) -> Any:
        """One forward pass, with VITS's noise drawn from an RNG seeded by ``seed`` only."""
        import torch

        device = self.model.device
        devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            speaker = params["speaker"] if self.num_speakers > 1 else None
            out = self.model(**inputs, speaker_id=speaker,
                             speaking_rate=float(params["speaking_rate"]))
        length = int(out.sequence_lengths[0])
        return out.waveform[0, :length].float().cpu().numpy()

    def _result(self, request: GenerationRequest, params: dict[str, Any], samples: Any,
                usage: dict[str, float]) -> RequestResult:
        """Encode one request's samples and describe them."""
        fmt = params["format"]
        seconds = len(samples) / self.sample_rate
        output = GeneratedOutput(
            kind="audio",
            media_type=media_type(fmt),
            data=encode(samples, self.sample_rate, fmt),
            metadata={
                "duration_seconds": round(seconds, 4),
                "sample_rate": self.sample_rate,
                "speaker": params["speaker"] if self.num_speakers > 1 else None,
                "speaking_rate": float(params["speaking_rate"]),
                "seed": request.seed,
                "script": script_of(request),
            },
        )
        return RequestResult(outputs=[output],
                             usage={**usage, "audio_seconds": round(seconds, 4)})

    @contextlib.contextmanager
    def _stages(self, index: int, progress: Progress) -> Iterator[None]:
        """Report request ``index``'s progress after each model stage, and stop it there
        once it is cancelled (a hook on each stage, removed afterwards)."""
        handles = []
        total = len(_STAGES) + 1  # the last step is encoding the audio

        def hook(done: int) -> Any:
            def after_stage(module: Any, args: Any, output: Any) -> None:
                progress.update(index, done / total)
                if progress.is_cancelled(index):
                    raise _Cancelled
            return after_stage

        for done, name in enumerate(_STAGES, start=1):
            module = getattr(self.model, name, None)
            if module is not None:
                handles.append(module.register_forward_hook(hook(done)))
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()
