"""Short videos from diffusers' AnimateDiff: a motion adapter on a Stable Diffusion pipeline.

Text-to-video runs ``AnimateDiffPipeline``. With a starting image (a job's parent asset)
the job runs ``AnimateDiffVideoToVideoPipeline``, the approach diffusers documents for
conditioning AnimateDiff on existing frames, fed the starting image repeated as every
frame: ``strength`` decides how far the clip may move away from it.

Same seed, same bytes, alone or in a batch, as for images (see the image plugin's module
docstring for why a plain batched call does not give that): a batch is one pipeline call
(one scheduler loop, one progress stream, one cancellation point), but every video has
its own CPU ``torch.Generator`` (video k of a request seeded seed + k), prompts are
encoded one at a time, the motion UNet runs video by video inside the call
(:func:`_per_video`, the video form of the image plugin's per-image wrapper), starting
frames are encoded and latents decoded one video at a time, and the encoders run with
fixed settings (see ``encode``).

A model is either one folder or hub id holding a whole AnimateDiff pipeline (the demo
model is one), or ``BASE+ADAPTER@COMMIT``: a Stable Diffusion 1.5 base (pinned by the
registered revision) plus a ``MotionAdapter`` pinned by the commit after ``@``.

torch, diffusers, imageio and Pillow are imported lazily: every web process imports this
module to list and validate the generator's parameters.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

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
    run_in_groups,
    torch_dtype,
)
from plugins.image_diffusers.generator import (
    Job,
    StepWatch,
    img2img_schedule,
    on_device,
    open_init_image,
    pipeline_bytes,
    sibling_pipeline,
    size_errors,
)
from plugins.video_animatediff.encode import MEDIA_TYPES, encode_frames, png

DEMO_FOLDER = "demo-video"
DEMO_NAME = "assay-demo-video"  # equal to demo_model.DEMO_NAME; kept here to avoid the import
_COMMIT = re.compile(r"[0-9a-f]{40}")


def split_source(source: str) -> tuple[str, str | None, str | None]:
    """``BASE+ADAPTER@COMMIT`` → (base, adapter, commit); a plain source → (source, None, None).

    Raises:
        ValueError: an adapter without a 40-hex commit (an unpinned adapter could change
            under a deployment, and the job's recorded model would no longer name it).
    """
    if "+" not in source:
        return source, None, None
    base, _, adapter = source.partition("+")
    name, _, commit = adapter.partition("@")
    if not base or not name or not _COMMIT.fullmatch(commit):
        raise ValueError(
            f"{source!r}: expected BASE+ADAPTER@COMMIT with a 40-hex adapter commit"
        )
    return base, name, commit


class AnimateDiffVideoGenerator(Generator):
    """AnimateDiff text-to-video, and image-to-video when the job has a starting image."""

    id = "video-animatediff"
    modality = "video"
    version = "1.0"
    queue = "gpu.video"
    needs_gpu = False  # runs on CPU too, slowly for real models
    max_batch_size = 8
    parent_kinds = ("image",)  # image-to-video: the starting frames
    # fps and format only change encoding, done per video: jobs that differ there still
    # share a call. mode (text or image start) comes from the inputs, see mode_of().
    batch_keys = ("frames", "width", "height", "steps", "guidance", "strength", "mode")
    description = (
        "Short video clips from AnimateDiff (a motion adapter on Stable Diffusion, "
        "diffusers); with a parent image, the clip starts from it. The default is a tiny "
        "demo model built offline that draws noise until a real model is registered."
    )
    parameters = (
        Param("frames", int, 16, minimum=8, maximum=32, label="Length (frames)", plain=True,
              help="How many pictures the clip has; at 8 per second, 16 frames is 2 seconds."),
        Param("fps", int, 8, minimum=4, maximum=24, label="Frames per second",
              help="How fast the clip plays; more frames per second makes it shorter."),
        Param("width", int, 64, minimum=64, maximum=512, label="Width",
              help="Video width in pixels, a multiple of 8."),
        Param("height", int, 64, minimum=64, maximum=512, label="Height",
              help="Video height in pixels, a multiple of 8."),
        Param("steps", int, 4, minimum=1, maximum=50, label="Refinement steps",
              help="How many passes the model makes over the clip; more is slower and "
                   "usually cleaner."),
        Param("guidance", float, 7.5, minimum=0.0, maximum=30.0, label="Follow the prompt",
              help="How closely the clip sticks to the prompt; 1 or less lets the model "
                   "roam freely."),
        Param("negative_prompt", str, "", max_length=1000, label="Leave out",
              help="What the clip should not show."),
        Param("format", str, "mp4", choices=tuple(MEDIA_TYPES), label="File type",
              help="MP4 plays everywhere; GIF or WebP are looping pictures for places "
                   "that take no video."),
        Param("strength", float, 0.6, minimum=0.05, maximum=1.0, label="How much to change",
              help="Only when starting from an image: how far the clip may move away "
                   "from it (1 ignores it).", only_with_inputs=True),
        Param("num_videos", int, 1, minimum=1, maximum=4, label="Number of variants",
              plain=True, help="How many different clips to make at once."),
    )

    #: Run the motion UNet one video at a time inside the batched call, so batching never
    #: changes a byte. A subclass may set False to batch the UNet's tensors instead (more
    #: throughput on a large GPU, at the cost of rare one-level pixel differences).
    batch_invariant: ClassVar[bool] = True

    @classmethod
    def extra_validation(cls, params: dict[str, Any]) -> dict[str, str]:
        """Width and height must be multiples of 8: the VAE works on 8x8 pixel cells
        (which also makes them even, as H.264's yuv420p needs)."""
        return size_errors(params)

    @staticmethod
    def mode_of(request: GenerationRequest) -> str:
        """The derived batch key ``mode``: img2vid with a starting image, else txt2vid."""
        return "img2vid" if request.inputs.get("init_image") else "txt2vid"

    @classmethod
    def default_model(cls, models_dir: str) -> ModelRef:
        """The demo pipeline, built by ``plugins.video_animatediff.demo_model``."""
        return ModelRef(source=str(Path(models_dir) / DEMO_FOLDER), revision=None, name=DEMO_NAME)

    def __init__(self) -> None:
        super().__init__()
        self.pipe: Any = None
        self._vid2vid: Any = None
        self._guided = False  # the running call uses classifier-free guidance

    # -- loading ---------------------------------------------------------------------------

    def load(self, model_ref: ModelRef, device: str, dtype: str = "float32") -> None:
        """Load a whole AnimateDiff pipeline, or a base model plus a pinned motion adapter."""
        import torch
        from diffusers import AnimateDiffPipeline, DDIMScheduler, MotionAdapter

        load_dtype = torch_dtype(torch, dtype)
        base, adapter_id, adapter_commit = split_source(model_ref.source)
        resolved = resolve_model(ModelRef(base, model_ref.revision, model_ref.name), DEMO_NAME)
        self.revision, self.licence = resolved.revision, resolved.licence
        extra: dict[str, Any] = {}
        if adapter_id is not None:
            extra["motion_adapter"] = MotionAdapter.from_pretrained(
                adapter_id, revision=adapter_commit, dtype=load_dtype)
            self.revision = f"{resolved.revision}+{adapter_commit}"
        pipe = AnimateDiffPipeline.from_pretrained(
            resolved.load_from, dtype=load_dtype, **resolved.kwargs, **extra)
        if adapter_id is not None:
            # The schedule diffusers' AnimateDiff guide pairs with SD 1.5 + an adapter.
            pipe.scheduler = DDIMScheduler.from_config(
                pipe.scheduler.config, beta_schedule="linear", clip_sample=False,
                timestep_spacing="linspace", steps_offset=1)
        on_device(pipe, device)
        if self.batch_invariant:
            pipe.unet.forward = _per_video(pipe.unet.forward, lambda: self._guided)
        self.pipe, self._vid2vid = pipe, None
        self.model_ref, self.device, self.dtype = model_ref, device, dtype

    def _video_to_video(self) -> Any:
        """The video-to-video pipeline, built on first use from the loaded one."""
        if self._vid2vid is None:
            from diffusers import AnimateDiffVideoToVideoPipeline

            self._vid2vid = sibling_pipeline(AnimateDiffVideoToVideoPipeline, self.pipe)
        return self._vid2vid

    def approximate_size_bytes(self) -> int:
        """Bytes held by the motion UNet's, VAE's and text encoder's tensors."""
        return pipeline_bytes(self.pipe)

    # -- generation ------------------------------------------------------------------------

    def generate(self, batch: list[GenerationRequest], progress: Progress) -> list[RequestResult]:
        """Run the batch as one pipeline call per shared setting (normally exactly one)."""
        import torch

        if self.pipe is None:
            raise RuntimeError("load() must be called before generate()")
        with torch.inference_mode():
            return run_in_groups(batch, progress, self._plan,
                                 lambda jobs: self._run(jobs, progress))

    def _plan(self, index: int, request: GenerationRequest) -> tuple[tuple[Any, ...], Job]:
        """A request's call key (its batch keys) and job."""
        params = clean_parameters(self, request)
        seeds = [request.seed + k for k in range(params["num_videos"])]
        mode = self.mode_of(request)
        key = (params["frames"], params["width"], params["height"], params["steps"],
               params["guidance"], mode, params["strength"] if mode == "img2vid" else None)
        return key, Job(index, request, params, seeds)

    def _run(self, jobs: list[Job], progress: Progress) -> list[RequestResult]:
        """One pipeline call for requests that share length, size, steps and mode."""
        import torch

        first = jobs[0].params
        frames, width, height = first["frames"], first["width"], first["height"]
        steps, guidance = first["steps"], float(first["guidance"])
        img2vid = self.mode_of(jobs[0].request) == "img2vid"
        pipe = self._video_to_video() if img2vid else self.pipe
        device = self.pipe.unet.device
        cfg = guidance > 1.0

        encoded: dict[tuple[str, str], tuple[Any, Any]] = {}
        embeds, negatives, generators, videos = [], [], [], []
        for job in jobs:
            key = (job.request.prompt, str(job.params["negative_prompt"]))
            if key not in encoded:  # each distinct prompt encoded alone, batch of one
                positive, negative = self.pipe.encode_prompt(
                    key[0], device, 1, cfg, negative_prompt=key[1] or None)
                encoded[key] = (positive, negative)
            start = None
            if img2vid:
                start = open_init_image(job.request.inputs["init_image"], width, height)
            for seed in job.seeds:
                job.rows.append(len(generators))
                # CPU generators on every device: the same seed gives the same noise on GPU.
                generators.append(torch.Generator("cpu").manual_seed(seed))
                embeds.append(encoded[key][0])
                if cfg:
                    negatives.append(encoded[key][1])
                if start is not None:
                    videos.append([start] * frames)

        kwargs: dict[str, Any] = {
            "prompt_embeds": torch.cat(embeds),
            "negative_prompt_embeds": torch.cat(negatives) if cfg else None,
            "width": width, "height": height, "guidance_scale": guidance,
            "generator": generators, "output_type": "latent",
        }
        denoise_steps = steps
        if img2vid:
            strength = float(first["strength"])
            steps = img2img_schedule(steps, strength)  # at least one step runs
            denoise_steps = min(int(steps * strength), steps)
            kwargs.update(video=videos, strength=strength)
        else:
            kwargs["num_frames"] = frames
        kwargs["num_inference_steps"] = steps

        watch = StepWatch([job.index for job in jobs], progress, denoise_steps,
                          pipeline_total=False)
        self._guided = cfg
        try:
            latents = pipe(callback_on_step_end=watch, **kwargs).frames
        finally:
            self._guided = False
        if watch.interrupted:
            usage = {"videos": 0, "frames": 0, "video_seconds": 0.0, "steps": watch.done}
            return [RequestResult(outputs=[], usage=dict(usage), cancelled=True) for _ in jobs]

        results = []
        for job in jobs:
            if progress.is_cancelled(job.index):
                results.append(RequestResult(outputs=[], cancelled=True,
                                             usage={"videos": 0, "steps": denoise_steps}))
                continue
            outputs = [self._output(latents[row], job.params, seed)
                       for row, seed in zip(job.rows, job.seeds, strict=True)]
            progress.update(job.index, 1.0)
            count = len(outputs)
            results.append(RequestResult(outputs=outputs, usage={
                "videos": count, "frames": count * frames,
                "video_seconds": round(count * frames / job.params["fps"], 3),
                "steps": denoise_steps}))
        return results

    def _output(self, latent: Any, params: dict[str, Any], seed: int) -> GeneratedOutput:
        """One video's latents decoded alone, encoded, with its first frame as poster."""
        video = self.pipe.decode_latents(latent[None].clone(), decode_chunk_size=16)
        frames = self.pipe.video_processor.postprocess_video(video=video, output_type="np")[0]
        frames = (frames * 255).round().clip(0, 255).astype("uint8")
        fmt, fps = params["format"], params["fps"]
        height, width = frames.shape[1:3]
        return GeneratedOutput(
            kind="video", media_type=MEDIA_TYPES[fmt], data=encode_frames(frames, fps, fmt),
            width=width, height=height, poster=png(frames[0]),
            metadata={"seed": seed, "fps": fps, "frames": len(frames),
                      "duration_seconds": round(len(frames) / fps, 3), "format": fmt},
        )


def _per_video(forward: Callable[..., Any], guided: Callable[[], bool]) -> Callable[..., Any]:
    """Wrap the motion UNet's forward so each video runs alone, in fresh tensors.

    The pipeline hands over latents of shape (videos, channels, frames, h, w) and text
    embeddings repeated once per frame, (videos x frames, tokens, width); with
    classifier-free guidance both stack [unconditional, conditional]. A video's rows (its
    two guidance rows and their frames' embeddings) go into one call, exactly the call an
    unbatched run makes, and the outputs are put back in place.
    """
    import torch

    @functools.wraps(forward)
    def per_video(sample: torch.Tensor, timestep: Any, *args: Any,
                  encoder_hidden_states: torch.Tensor, **kwargs: Any) -> Any:
        size, frames = sample.shape[0], sample.shape[2]
        videos = size // 2 if guided() and size % 2 == 0 else size
        if videos == 1:
            return forward(sample, timestep, *args,
                           encoder_hidden_states=encoder_hidden_states, **kwargs)
        merged: torch.Tensor | None = None
        as_tuple = False
        for video in range(videos):
            rows = torch.arange(video, size, videos)
            text_rows = (rows[:, None] * frames + torch.arange(frames)).reshape(-1)
            step = timestep
            if isinstance(step, torch.Tensor) and step.ndim > 0 and step.shape[0] == size:
                step = step.index_select(0, rows.to(step.device))
            out = forward(
                sample.index_select(0, rows.to(sample.device)), step, *args,
                encoder_hidden_states=encoder_hidden_states.index_select(
                    0, text_rows.to(encoder_hidden_states.device)),
                **kwargs,
            )
            as_tuple = isinstance(out, tuple)
            part = out[0] if as_tuple else out.sample
            if merged is None:
                merged = part.new_empty((size, *part.shape[1:]))
            merged[rows.to(part.device)] = part
        assert merged is not None
        if as_tuple:
            return (merged,)
        return type(out)(sample=merged)

    return per_video
