"""Text-to-image and image-to-image with Stable Diffusion pipelines from ``diffusers``.

The platform promises that a job's seed reproduces its image byte for byte, whether the
job ran alone or batched with others. A plain batched diffusers call does not keep that
promise: CPU and GPU kernels pick different blockings for different batch sizes, and the
last-ulp differences flip a few pixel values once images are 128 px or larger (measured
here: 1 pixel at 128 px, ~400 at 512 px). So every batch still goes through one pipeline
call (one scheduler loop, one progress stream, one cancellation point), but:

- every image has its own ``torch.Generator`` (image k of a request seeded seed + k), so
  its initial noise never depends on its neighbours;
- prompts are encoded one at a time and handed over as embeddings, init images are
  encoded and VAE outputs decoded one image at a time;
- the UNet runs image by image inside the call (``batch_invariant``): an image's
  unconditional and conditional rows go in one freshly allocated tensor, of the same
  shape and values as in an unbatched run.

The result is byte-identical PNGs alone or batched. Set ``batch_invariant = False`` on a
subclass to batch the UNet's tensors instead (more throughput on a large GPU, at the cost
of rare one-level pixel differences between a batched and an unbatched run).

torch, diffusers and Pillow are imported lazily: every web process imports this module to
list and validate the generator's parameters and should not pay for the model stack.
"""

from __future__ import annotations

import functools
import io
import warnings
from collections.abc import Callable
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
    resolve_model,
    run_in_groups,
    tensor_bytes,
    torch_dtype,
)

if TYPE_CHECKING:
    import torch

DEMO_FOLDER = "demo-image"
DEMO_NAME = "assay-demo-image"  # equal to demo_model.DEMO_NAME; kept here to avoid the import
PNG = "image/png"
#: Largest init image accepted for img2img, checked from the header before decoding: a
#: small compressed file can declare a huge canvas (a decompression bomb).
MAX_INIT_PIXELS = 4096 * 4096
#: Formats an init image may have; Pillow's rarer decoders are not exposed to uploads.
INIT_FORMATS = ("PNG", "JPEG", "WEBP")
SIZE_MULTIPLE = 8


@dataclass
class Job:
    """One request's share of a pipeline call (shared with the video plugin)."""

    index: int
    request: GenerationRequest
    params: dict[str, Any]
    seeds: list[int]
    rows: list[int] = field(default_factory=list)  # its outputs' positions in the call


def size_errors(params: dict[str, Any]) -> dict[str, str]:
    """Width and height not a multiple of 8, by name: the VAE works on 8x8 pixel cells."""
    errors: dict[str, str] = {}
    for name in ("width", "height"):
        value = params.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value % SIZE_MULTIPLE:
            lower = value - value % SIZE_MULTIPLE
            errors[name] = (
                f"must be a multiple of {SIZE_MULTIPLE} (got {value}; "
                f"try {lower} or {lower + SIZE_MULTIPLE})"
            )
    return errors


def pipeline_bytes(pipe: Any) -> int:
    """Bytes held by a Stable Diffusion pipeline's UNet, VAE and text encoder (0 if None)."""
    if pipe is None:
        return 0
    return tensor_bytes(*(getattr(pipe, name, None) for name in ("unet", "vae", "text_encoder")))


def on_device(pipe: Any, device: str) -> Any:
    """A loaded pipeline moved to ``device``, its own progress bars off (the platform
    reports progress through ``Progress`` instead)."""
    pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def sibling_pipeline(pipeline_class: Any, pipe: Any) -> Any:
    """A pipeline of another task (img2img, video-to-video) sharing ``pipe``'s weights."""
    sibling = pipeline_class.from_pipe(pipe)
    sibling.set_progress_bar_config(disable=True)
    return sibling


class StepWatch:
    """A diffusers ``callback_on_step_end`` reporting one call's progress and cancellation.

    Each step updates every job of the call; once all of them are cancelled the pipeline
    is interrupted (diffusers skips the remaining steps) and :attr:`interrupted` is set.
    The fraction done is step / ``steps``, or step / the pipeline's own ``num_timesteps``
    when ``pipeline_total`` and the pipeline knows it.
    """

    def __init__(self, indices: list[int], progress: Progress, steps: int,
                 *, pipeline_total: bool) -> None:
        self.indices, self.progress, self.steps = indices, progress, steps
        self.pipeline_total = pipeline_total
        self.interrupted = False
        self.done = 0  # steps run so far

    def __call__(self, pipeline: Any, step: int, timestep: Any,
                 tensors: dict[str, Any]) -> dict[str, Any]:
        """Called by the pipeline after each denoising step; returns ``tensors`` unchanged."""
        if self.pipeline_total:
            total = max(1, int(getattr(pipeline, "num_timesteps", 0) or self.steps))
        else:
            total = max(1, self.steps)
        self.done = step + 1
        for index in self.indices:
            self.progress.update(index, min(1.0, (step + 1) / total))
        if all(self.progress.is_cancelled(index) for index in self.indices):
            pipeline._interrupt = True  # diffusers skips the remaining steps
            self.interrupted = True
        return tensors


class DiffusersImageGenerator(Generator):
    """Stable Diffusion text-to-image, and image-to-image when the job has an init image."""

    id = "image-diffusers"
    modality = "image"
    version = "1.0"
    queue = "gpu.image"
    needs_gpu = False  # runs on CPU too, slowly for real models
    max_batch_size = 16
    parent_kinds = ("image",)  # image-to-image
    # mode ("txt2img" or "img2img") is derived from the inputs, not a parameter: see
    # mode_of(). strength decides the img2img schedule, which one call shares.
    batch_keys = ("width", "height", "steps", "guidance", "strength", "mode")
    description = (
        "Images from a Stable Diffusion pipeline (diffusers); with a parent image, "
        "image-to-image. The default is a tiny demo model built offline that draws noise "
        "until a real model is registered."
    )
    parameters = (
        Param(
            "width",
            int,
            64,
            minimum=64,
            maximum=1024,
            label="Width",
            help="Image width in pixels, a multiple of 8.",
        ),
        Param(
            "height",
            int,
            64,
            minimum=64,
            maximum=1024,
            label="Height",
            help="Image height in pixels, a multiple of 8.",
        ),
        Param(
            "steps",
            int,
            4,
            minimum=1,
            maximum=100,
            label="Refinement steps",
            help="How many passes the model makes over the image; more is slower and "
                 "usually cleaner.",
        ),
        Param(
            "guidance",
            float,
            5.0,
            minimum=0.0,
            maximum=30.0,
            label="Follow the prompt",
            help="How closely the image sticks to the prompt; 1 or less lets the model "
                 "roam freely.",
        ),
        Param(
            "negative_prompt",
            str,
            "",
            max_length=1000,
            label="Leave out",
            help="What the image should not show.",
        ),
        Param(
            "strength",
            float,
            0.6,
            minimum=0.05,
            maximum=1.0,
            label="How much to change",
            help="Only when starting from an image: how much of it is repainted "
                 "(1 repaints all of it).",
            only_with_inputs=True,
        ),
        Param(
            "num_images",
            int,
            1,
            minimum=1,
            maximum=4,
            label="Number of variants",
            plain=True,
            help="How many different images to make at once, to compare side by side.",
        ),
    )
    #: Run the UNet one image at a time inside the batched call, so batching never
    #: changes a single byte of an image (see the module docstring).
    batch_invariant: ClassVar[bool] = True

    @classmethod
    def extra_validation(cls, params: dict[str, Any]) -> dict[str, str]:
        """Width and height must be multiples of 8: the VAE works on 8x8 pixel cells."""
        return size_errors(params)

    @staticmethod
    def mode_of(request: GenerationRequest) -> str:
        """The derived batch key ``mode``: img2img with an init image, else txt2img."""
        return "img2img" if request.inputs.get("init_image") else "txt2img"

    @classmethod
    def default_model(cls, models_dir: str) -> ModelRef:
        """The demo pipeline, built by ``plugins.image_diffusers.demo_model``."""
        return ModelRef(source=str(Path(models_dir) / DEMO_FOLDER), revision=None, name=DEMO_NAME)

    def __init__(self) -> None:
        super().__init__()
        self.pipe: Any = None
        self._img2img: Any = None
        self._guided = False  # the running call uses classifier-free guidance

    # -- loading ---------------------------------------------------------------------------

    def load(self, model_ref: ModelRef, device: str, dtype: str = "float32") -> None:
        """Load the pipeline from a local folder, or a hub id at a pinned revision.

        A local folder given with a revision must hash to it (``folder_revision``): the
        revision recorded on a job then really names the weights that produced it.
        """
        import torch
        from diffusers import DiffusionPipeline

        load_dtype = torch_dtype(torch, dtype)  # an unknown dtype fails before any file
        resolved = resolve_model(model_ref, DEMO_NAME)
        source, kwargs = resolved.load_from, resolved.kwargs
        self.revision, self.licence = resolved.revision, resolved.licence

        pipe = DiffusionPipeline.from_pretrained(
            source,
            dtype=load_dtype,
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
            **kwargs,
        )
        if not all(hasattr(pipe, name) for name in ("unet", "vae", "encode_prompt")):
            raise ValueError(
                f"{source} holds a {type(pipe).__name__}; "
                "this generator runs Stable Diffusion (UNet + VAE) pipelines"
            )
        on_device(pipe, device)
        if self.batch_invariant:
            pipe.unet.forward = _per_image(pipe.unet.forward, lambda: self._guided)
        self.pipe, self._img2img = pipe, None
        self.model_ref, self.device, self.dtype = model_ref, device, dtype

    def _image_to_image(self) -> Any:
        """The img2img pipeline, built on first use from the loaded one (shares weights)."""
        if self._img2img is None:
            from diffusers import AutoPipelineForImage2Image

            self._img2img = sibling_pipeline(AutoPipelineForImage2Image, self.pipe)
        return self._img2img

    def approximate_size_bytes(self) -> int:
        """Bytes held by the UNet's, VAE's and text encoder's parameters and buffers."""
        return pipeline_bytes(self.pipe)

    # -- generation ------------------------------------------------------------------------

    def generate(self, batch: list[GenerationRequest], progress: Progress) -> list[RequestResult]:
        """Run the batch as one pipeline call per shared setting (normally exactly one).

        Requests cancelled before the start are left out; if every running request is
        cancelled mid-way the call is interrupted; requests cancelled while others go on
        finish with the batch and are returned cancelled, without outputs.
        """
        import torch

        if self.pipe is None:
            raise RuntimeError("load() must be called before generate()")
        with torch.inference_mode():
            return run_in_groups(batch, progress, self._plan,
                                 lambda jobs: self._run(jobs, progress))

    def _plan(self, index: int, request: GenerationRequest) -> tuple[tuple[Any, ...], Job]:
        """A request's call key and job. Normally one key per batch: the batcher only puts
        equal batch_keys together; a mixed batch still gives the same bytes."""
        params = clean_parameters(self, request)
        job = Job(
            index, request, params, [request.seed + k for k in range(params["num_images"])]
        )
        mode = self.mode_of(request)
        key = (
            params["width"],
            params["height"],
            params["steps"],
            params["guidance"],
            mode,
            params["strength"] if mode == "img2img" else None,
        )
        return key, job

    def _run(self, jobs: list[Job], progress: Progress) -> list[RequestResult]:
        """One pipeline call for requests that share size, steps, guidance and mode."""
        import torch

        first = jobs[0].params
        width, height, steps = first["width"], first["height"], first["steps"]
        guidance = float(first["guidance"])
        img2img = self.mode_of(jobs[0].request) == "img2img"
        pipe = self._image_to_image() if img2img else self.pipe
        device = self.pipe.unet.device
        # The pipeline's own rule for classifier-free guidance (off for guidance <= 1).
        cfg = guidance > 1.0 and getattr(pipe.unet.config, "time_cond_proj_dim", None) is None

        # Text: each distinct (prompt, negative prompt) encoded alone, batch of one.
        encoded: dict[tuple[str, str], tuple[torch.Tensor, torch.Tensor | None]] = {}
        for job in jobs:
            key = (job.request.prompt, str(job.params["negative_prompt"]))
            if key not in encoded:
                embeds, negative = self.pipe.encode_prompt(
                    key[0], device, 1, cfg, negative_prompt=key[1] or None
                )
                encoded[key] = (embeds, negative if cfg else None)

        counts = {len(job.seeds) for job in jobs}
        per_prompt = counts.pop() if len(counts) == 1 else 1
        embed_rows: list[torch.Tensor] = []
        negative_rows: list[torch.Tensor] = []
        generators: list[torch.Generator] = []
        for job in jobs:
            embeds, negative = encoded[(job.request.prompt, str(job.params["negative_prompt"]))]
            repeat = 1 if per_prompt > 1 else len(job.seeds)  # else the pipeline repeats
            embed_rows += [embeds] * repeat
            if negative is not None:
                negative_rows += [negative] * repeat
            for seed in job.seeds:
                job.rows.append(len(generators))
                # CPU generators on every device: the same seed gives the same noise on GPU.
                generators.append(torch.Generator("cpu").manual_seed(seed))

        kwargs: dict[str, Any] = {
            "prompt_embeds": torch.cat(embed_rows),
            "negative_prompt_embeds": torch.cat(negative_rows) if negative_rows else None,
            "num_images_per_prompt": per_prompt,
            "width": width,
            "height": height,
            "guidance_scale": guidance,
            "generator": generators,
            "output_type": "latent",
        }
        denoise_steps = steps
        if img2img:
            strength = float(first["strength"])
            kwargs["image"] = self._init_latents(jobs, generators, width, height)
            kwargs["strength"] = strength
            # diffusers runs int(steps × strength) steps and fails on 0: schedule the
            # fewest steps (at least the ones asked for) that leave one to run.
            steps = img2img_schedule(steps, strength)
            denoise_steps = min(int(steps * strength), steps)
        kwargs["num_inference_steps"] = steps

        watch = StepWatch([job.index for job in jobs], progress, denoise_steps,
                          pipeline_total=True)
        self._guided = cfg
        try:
            latents = pipe(callback_on_step_end=watch, **kwargs).images
        finally:
            self._guided = False
        if watch.interrupted:
            usage = {"images": 0, "steps": watch.done}
            return [RequestResult(outputs=[], usage=dict(usage), cancelled=True) for _ in jobs]

        results = []
        for job in jobs:
            if progress.is_cancelled(job.index):
                results.append(
                    RequestResult(outputs=[], usage={"images": 0, "steps": denoise_steps},
                                  cancelled=True)
                )
                continue
            outputs = [
                GeneratedOutput(
                    kind="image",
                    media_type=PNG,
                    data=self._decode_png(latents[row]),
                    width=width,
                    height=height,
                    metadata={"seed": seed},
                )
                for row, seed in zip(job.rows, job.seeds, strict=True)
            ]
            progress.update(job.index, 1.0)
            usage = {"images": len(outputs), "steps": denoise_steps}
            results.append(RequestResult(outputs=outputs, usage=usage))
        return results

    def _init_latents(
        self, jobs: list[Job], generators: list[torch.Generator], width: int, height: int
    ) -> torch.Tensor:
        """Each image's init latents, encoded alone and sampled with its own generator.

        This is what diffusers' img2img does per image; doing it here keeps every image's
        tensors the same shape and allocation whatever the batch, and gives each image of
        a request its own init latents in order.
        """
        import torch

        pipe = self._image_to_image()
        vae = pipe.vae
        rows: list[torch.Tensor] = []
        for job in jobs:
            picture = open_init_image(job.request.inputs["init_image"], width, height)
            pixels = pipe.image_processor.preprocess(picture, height=height, width=width)
            pixels = pixels.to(device=vae.device, dtype=vae.dtype)
            for row in job.rows:
                dist = vae.encode(pixels.clone()).latent_dist
                rows.append(dist.sample(generator=generators[row]) * vae.config.scaling_factor)
        return torch.cat(rows)

    def _decode_png(self, latent: torch.Tensor) -> bytes:
        """One image's latents to PNG bytes: decoded alone, saved without any metadata."""
        vae = self.pipe.vae
        sample = latent[None].clone() / vae.config.scaling_factor
        image = vae.decode(sample, return_dict=False)[0]
        picture = self.pipe.image_processor.postprocess(image, output_type="pil")[0]
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")  # no pnginfo, no timestamps: stable bytes
        return buffer.getvalue()


def _per_image(forward: Callable[..., Any], guided: Callable[[], bool]) -> Callable[..., Any]:
    """Wrap a denoiser's forward so each image runs alone, in freshly allocated tensors.

    With classifier-free guidance a pipeline stacks [unconditional rows, conditional
    rows]; an image's two rows are gathered into one call of two, exactly the call an
    unbatched run makes. Tensor arguments whose first dimension is the batch are split
    the same way; the rest (timestep, configuration) is passed through. Outputs are put
    back in place, in the structure the model returned (a tuple with
    ``return_dict=False``, as pipelines call it, or the model's output dataclass).
    """
    import torch

    def take(value: Any, rows: torch.Tensor, size: int) -> Any:
        if isinstance(value, torch.Tensor) and value.ndim > 0 and value.shape[0] == size:
            return value.index_select(0, rows.to(value.device))  # a new tensor
        if isinstance(value, dict):
            return {k: take(v, rows, size) for k, v in value.items()}
        return value

    @functools.wraps(forward)
    def per_image(sample: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        size = sample.shape[0]
        images = size // 2 if guided() and size % 2 == 0 else size
        merged: list[torch.Tensor] | None = None
        template: Any = None
        for image in range(images):
            rows = torch.arange(image, size, images)  # [image] or [image, image + images]
            out = forward(
                take(sample, rows, size),
                *(take(a, rows, size) for a in args),
                **{k: take(v, rows, size) for k, v in kwargs.items()},
            )
            parts = list(out) if isinstance(out, tuple) else [out.sample]
            if merged is None:
                template = out
                merged = [p.new_empty((size, *p.shape[1:])) for p in parts]
            for target, part in zip(merged, parts, strict=True):
                target[rows.to(part.device)] = part
        assert merged is not None
        if isinstance(template, tuple):
            return tuple(merged)
        return type(template)(sample=merged[0])

    return per_image


def img2img_schedule(steps: int, strength: float) -> int:
    """Fewest scheduled steps, at least ``steps``, for which img2img runs at least one.

    diffusers runs ``int(steps * strength)`` denoising steps: 1 step at strength 0.6 would
    run none and fail. This bumps the schedule (1 → 2 steps at 0.6) instead of refusing.
    """
    scheduled = steps
    while int(scheduled * strength) < 1:
        scheduled += 1
    return scheduled


def open_init_image(data: bytes, width: int, height: int) -> Any:
    """Decode an uploaded init image safely and resize it to the requested size.

    The pixel count is checked from the header before anything is decoded, and Pillow's
    own decompression-bomb warning is an error here, without changing the process-wide
    ``Image.MAX_IMAGE_PIXELS`` other code in the worker relies on.
    """
    from PIL import Image, ImageOps

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            picture = Image.open(io.BytesIO(data), formats=INIT_FORMATS)
        except Image.DecompressionBombError as error:
            raise ValueError(f"init image refused: {error}") from None
        except (OSError, Image.DecompressionBombWarning) as error:
            raise ValueError(
                f"init image is not a readable {'/'.join(INIT_FORMATS)} image: {error}"
            ) from None
        if picture.width * picture.height > MAX_INIT_PIXELS:
            raise ValueError(
                f"init image is {picture.width}x{picture.height} pixels; "
                f"at most {MAX_INIT_PIXELS} pixels are accepted"
            )
        picture.load()
    picture = ImageOps.exif_transpose(picture).convert("RGB")
    if picture.size != (width, height):
        picture = picture.resize((width, height), Image.Resampling.LANCZOS)
    return picture
