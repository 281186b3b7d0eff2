"""The objects plugins implement and receive: generators, parameters, requests and outputs.

This module imports nothing from Django on purpose. A plugin imports it through the
``assay`` facade and can be unit-tested without a configured project, and the worker
runtime can hand these plain objects across process boundaries without ORM objects.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from assay.core.numbers import parse_whole

#: Bumped on incompatible changes to this module or the hook specifications. A plugin module
#: may declare ``ASSAY_API = ">=1,<2"``; the loader skips it when this version falls outside.
PLUGIN_API_VERSION = "1.0"


class GenerationCancelled(Exception):
    """Raised inside ``Generator.generate`` when every request in the batch was cancelled."""


@dataclass(frozen=True)
class Param:
    """One generation parameter with its bounds, validated before a job is queued.

    Bounds live here rather than in each plugin's code so the submission service can
    refuse a 100000x100000 image or a million tokens before anything reaches a queue.
    """

    name: str
    type: type  # int, float, str or bool
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None
    max_length: int | None = None
    help: str = ""
    #: Applies only to jobs with inputs (e.g. an image-to-image init image); left out of
    #: the provenance record of a job without them, where it did nothing.
    only_with_inputs: bool = False
    #: What people call it, e.g. "Length" for ``max_new_tokens``: the portal shows this and
    #: ``help``, never the raw name (which stays behind the advanced fold's details).
    label: str = ""
    #: One of the everyday controls (length, creativity, number of variants) that the
    #: portal shows first; every other parameter is folded under "Advanced settings".
    plain: bool = False

    def validate(self, value: Any) -> tuple[Any, str | None]:
        """Return (coerced value, error message or None)."""
        if self.type is bool:
            if isinstance(value, bool):
                return value, None
            return value, f"must be true or false, not {value!r}"
        if self.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                if parse_whole(value) is not None:
                    value = parse_whole(value)
                elif isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    return value, f"must be a whole number, not {value!r}"
        elif self.type is float:
            if isinstance(value, bool):
                return value, f"must be a number, not {value!r}"
            try:
                value = float(value)
            except (TypeError, ValueError):
                return value, f"must be a number, not {value!r}"
            if value != value or value in (float("inf"), float("-inf")):
                return value, "must be a finite number"
        elif self.type is str:
            if not isinstance(value, str):
                return value, f"must be text, not {type(value).__name__}"
            if self.max_length is not None and len(value) > self.max_length:
                return value, f"must be at most {self.max_length} characters (got {len(value)})"
        if self.minimum is not None and value < self.minimum:
            return value, f"must be at least {_num(self.minimum)} (got {_num(value)})"
        if self.maximum is not None and value > self.maximum:
            return value, f"must be at most {_num(self.maximum)} (got {_num(value)})"
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(str(c) for c in self.choices)
            return value, f"must be one of {allowed} (got {value!r})"
        return value, None

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description for the API and the portal form."""
        out: dict[str, Any] = {"name": self.name, "type": self.type.__name__, "help": self.help}
        for key in ("default", "minimum", "maximum", "max_length"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.choices is not None:
            out["choices"] = list(self.choices)
        if self.only_with_inputs:
            out["only_with_inputs"] = True
        out["label"] = self.label or self.name.replace("_", " ").capitalize()
        out["plain"] = self.plain
        return out


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


#: Every generator takes a seed; the submission service picks one when none is given so
#: that each job can be reproduced from its stored parameters.
SEED = Param("seed", int, None, 0, 2**32 - 1, help="Random seed; same seed, same output.")


@dataclass(frozen=True)
class ModelRef:
    """Where a generator's weights come from: a local folder or a hub id, pinned."""

    source: str
    revision: str | None = None
    name: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON form stored on the job."""
        return {"source": self.source, "revision": self.revision, "name": self.name}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelRef:
        """Inverse of :meth:`as_dict`."""
        return cls(data["source"], data.get("revision"), data.get("name", ""))


@dataclass
class GenerationRequest:
    """One job's share of a batch: its rendered prompt, validated parameters and seed."""

    job_id: str
    prompt: str
    parameters: dict[str, Any]
    seed: int
    #: The job's starting asset, by kind: ``init_image`` (an image's bytes, for
    #: image-to-image and image-to-video) or ``script`` (a text's UTF-8, for speech).
    inputs: dict[str, bytes] = field(default_factory=dict)


@dataclass
class GeneratedOutput:
    """One output of one request. Text goes in ``text``; binary media in ``data``.

    A video may carry a ``poster``: a PNG still shown before it plays. It is stored beside
    the asset (its name in ``metadata["poster"]``), not hashed or signed with it: it is a
    preview of the signed bytes, never handed out as the asset.
    """

    kind: str  # "text", "image", "audio", "video"
    media_type: str
    text: str | None = None
    data: bytes | None = None
    width: int | None = None
    height: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    poster: bytes | None = None  # PNG, for video

    def content_bytes(self) -> bytes:
        """The exact bytes that are hashed, stored and later signed."""
        if self.data is not None:
            return self.data
        return (self.text or "").encode("utf-8")


@dataclass
class RequestResult:
    """What a generator returns for one request: its outputs and usage counters."""

    outputs: list[GeneratedOutput]
    usage: dict[str, float] = field(default_factory=dict)  # input_tokens, output_tokens, steps…
    cancelled: bool = False


class Progress(abc.ABC):
    """Handed to ``Generator.generate``: reports progress and tells about cancellation.

    Indices are positions in the batch, so a batched call can report each job on its own.
    """

    @abc.abstractmethod
    def update(self, index: int, fraction: float) -> None:
        """Record that request ``index`` is ``fraction`` (0..1) done. Cheap to call often."""

    @abc.abstractmethod
    def is_cancelled(self, index: int) -> bool:
        """True once the job behind request ``index`` was cancelled by a user."""


class NullProgress(Progress):
    """Progress that goes nowhere: for direct calls in benchmarks and unit tests."""

    def update(self, index: int, fraction: float) -> None:  # noqa: D102
        return None

    def is_cancelled(self, index: int) -> bool:  # noqa: D102
        return False


class Generator(abc.ABC):
    """A model-backed producer of outputs, designed for batches from the start.

    Subclasses set the class attributes and implement :meth:`load` and :meth:`generate`.
    An instance holds one loaded model; the worker's model cache keeps instances warm,
    keyed by (generator id, model source, revision, device, dtype).
    """

    id: ClassVar[str]
    modality: ClassVar[str]  # "text", "image", "audio", "video"
    version: ClassVar[str] = "0"
    queue: ClassVar[str] = "cpu"
    needs_gpu: ClassVar[bool] = False
    parameters: ClassVar[Sequence[Param]] = ()
    #: Parameters whose values must be equal for two requests to share one batched call.
    batch_keys: ClassVar[tuple[str, ...]] = ()
    max_batch_size: ClassVar[int] = 1
    #: Kinds of asset a job may start from (its parent asset): ``("image",)`` for
    #: image-to-image or image-to-video, ``("text",)`` for speech read from a script asset.
    parent_kinds: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""

    @classmethod
    def default_model(cls, models_dir: str) -> ModelRef | None:
        """The model used when a submission names none (None: a model must be named)."""
        return None

    @classmethod
    def demo_models(cls, models_dir: str) -> list[ModelRef]:
        """Every locally built demo model this generator can run (registered at bootstrap).

        Most generators build one, their ``default_model``; the text plugin builds a real
        instruction-tuned model and a tiny one for fast tests.
        """
        default = cls.default_model(models_dir)
        return [default] if default is not None else []

    @classmethod
    def all_parameters(cls) -> list[Param]:
        """Declared parameters plus the seed every generator takes."""
        names = {p.name for p in cls.parameters}
        return [*cls.parameters, *([SEED] if "seed" not in names else [])]

    @classmethod
    def validate_parameters(cls, given: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """Fill defaults and check bounds. Returns (clean parameters, errors by name)."""
        schema = {p.name: p for p in cls.all_parameters()}
        errors: dict[str, str] = {}
        for name in given:
            if name not in schema:
                known = ", ".join(sorted(schema))
                errors[name] = f"is not a parameter of {cls.id} (known: {known})"
        clean: dict[str, Any] = {}
        for name, param in schema.items():
            if name in given and given[name] is not None and given[name] != "":
                value, error = param.validate(given[name])
                if error:
                    errors[name] = error
                clean[name] = value
            elif param.default is not None:
                clean[name] = param.default
        if not errors:
            errors.update(cls.extra_validation(clean))
        return clean, errors

    @classmethod
    def extra_validation(cls, params: dict[str, Any]) -> dict[str, str]:
        """Rules one Param cannot express (e.g. width a multiple of 8); errors by name."""
        return {}

    @classmethod
    def applied_parameters(cls, params: dict[str, Any], *, with_inputs: bool
                           ) -> dict[str, Any]:
        """The parameters that took effect: those marked ``only_with_inputs`` are dropped
        from a job without inputs, so a record never claims a setting that did nothing."""
        unused = {p.name for p in cls.all_parameters() if p.only_with_inputs and not with_inputs}
        return {k: v for k, v in params.items() if k not in unused}

    @classmethod
    def batch_signature(cls, params: dict[str, Any]) -> dict[str, Any]:
        """The parameter values two requests must share to run in one batched call."""
        return {key: params.get(key) for key in cls.batch_keys}

    def __init__(self) -> None:
        self.model_ref: ModelRef | None = None
        self.device: str = "cpu"
        self.dtype: str = "float32"
        #: Set by ``load``: the revision actually loaded (a folder hash for local models)
        #: and the model's licence, both recorded on every job for provenance.
        self.revision: str | None = None
        self.licence: str = "unknown (see the model card)"

    @abc.abstractmethod
    def load(self, model_ref: ModelRef, device: str, dtype: str = "float32") -> None:
        """Load the model onto ``device``. Called once per cache entry, never per job."""

    @abc.abstractmethod
    def generate(self, batch: list[GenerationRequest], progress: Progress) -> list[RequestResult]:
        """Run the batch; return one :class:`RequestResult` per request, in order."""

    def model_info(self) -> dict[str, Any]:
        """Model source, the revision actually loaded, name and licence, for provenance."""
        ref = self.model_ref
        return {"source": ref.source if ref else None,
                "revision": self.revision or (ref.revision if ref else None),
                "name": ref.name if ref else None, "licence": self.licence}

    def approximate_size_bytes(self) -> int:
        """Memory the loaded model holds; the cache's budget is counted in these."""
        return 0


#: Check result statuses, and severities from least to most serious. A review policy
#: names the severities whose failures block approval.
CHECK_STATUSES = ("pass", "warn", "fail")
SEVERITIES = ("info", "low", "medium", "high", "critical")


@dataclass
class Evidence:
    """Why a check said what it said, pointing at the exact place in the asset."""

    message: str
    span: tuple[int, int] | None = None  # [start, end) character offsets in the text
    region: tuple[int, int, int, int] | None = None  # x, y, width, height in pixels
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckOutcome:
    """One check's verdict on one asset version."""

    status: str  # one of CHECK_STATUSES
    severity: str = "info"  # one of SEVERITIES
    score: float | None = None
    summary: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    #: Values later checks may use (e.g. an image's perceptual hash for near-duplicates).
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BannedTerm:
    """A term the brand never uses, with what to say instead."""

    term: str
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class Disclaimer:
    """Text that must appear when a trigger fires.

    Triggers: ``price``, ``percentage``, ``health``, ``financial``, ``keyword:<word>`` or
    ``regex:<pattern>`` (RE2 syntax, case-insensitive: see ``assay.compile_owner_pattern``).
    """

    text: str
    triggers: tuple[str, ...]


@dataclass(frozen=True)
class Fact:
    """An approved statement the project may make, with its source and validity."""

    id: str
    statement: str
    source: str = ""
    valid_from: date | None = None
    valid_until: date | None = None

    def valid_on(self, day: date) -> bool:
        """Whether the fact may be relied on that day."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until)


@dataclass
class CheckSubject:
    """The asset version a check looks at (plain data, no ORM objects)."""

    asset_id: str
    kind: str  # "text", "image", …
    media_type: str
    sha256: str
    text: str | None = None
    data: bytes | None = None
    width: int | None = None
    height: int | None = None
    #: What the asset was asked to be, for checks that compare a medium with its request
    #: (a clip's duration, frames and fps) or read the text it carries (a speech script,
    #: captions in ``metadata``): the job's generator id, validated parameters and
    #: rendered prompt, and the asset's metadata. Empty for an asset without a job.
    generator: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    prompt: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckContext:
    """The project's rules a check applies: its brand kit, targets and history."""

    project: str
    today: date
    voice: str = ""
    banned_terms: list[BannedTerm] = field(default_factory=list)
    disclaimers: list[Disclaimer] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    min_words: int | None = None
    max_words: int | None = None
    max_grade: float | None = None  # readability target (Flesch-Kincaid grade level)
    min_width: int = 256
    min_height: int = 256
    #: (asset id, perceptual hash) of the project's approved images.
    approved_image_hashes: list[tuple[str, str]] = field(default_factory=list)


class Check(abc.ABC):
    """An automated check on one asset version, run on the CPU queue.

    A check must be deterministic for the same subject and context, must not raise for
    ordinary content (return ``warn`` with evidence instead), and should finish in well
    under a second for a page of text.
    """

    id: ClassVar[str]
    modalities: ClassVar[tuple[str, ...]] = ()
    version: ClassVar[str] = "0"
    description: ClassVar[str] = ""
    default_severity: ClassVar[str] = "medium"

    @abc.abstractmethod
    def run(self, subject: CheckSubject, context: CheckContext) -> CheckOutcome:
        """Return the verdict with evidence for ``subject`` under ``context``."""


@dataclass(frozen=True)
class PublishedAsset:
    """An approved asset version after signing: what a publisher pushes onward.

    Plain data (no ORM objects), so a publisher can be unit-tested without a project.
    ``sha256`` and ``size`` describe the signed bytes (the file with its Content
    Credentials), which ``read_bytes`` returns; a text's credentials travel in a sidecar,
    read by ``read_sidecar``.
    """

    asset_id: str
    project: str  # the project's slug
    sha256: str
    media_type: str
    size: int
    signed_at: str  # ISO 8601
    #: Path on this Assay (``/api/v1/assets/<id>/content/``) that serves the signed file
    #: to a caller with access; a publisher joins it to its own base URL if it needs one.
    download_path: str
    #: The Content Credentials in short: manifest label, signer, certificate fingerprint,
    #: whether the manifest is embedded or in a sidecar, and the approving review.
    credentials: dict[str, Any] = field(default_factory=dict)
    sidecar_path: str | None = None
    reader: Any = field(default=None, repr=False, compare=False)
    sidecar_reader: Any = field(default=None, repr=False, compare=False)

    def read_bytes(self) -> bytes:
        """The signed file's bytes (read on demand: publishers that only notify never pay)."""
        return self.reader() if self.reader is not None else b""

    def read_sidecar(self) -> bytes | None:
        """The ``.c2pa`` sidecar of a signed text; None when the manifest is embedded."""
        return self.sidecar_reader() if self.sidecar_reader is not None else None


@dataclass(frozen=True)
class PublishTarget:
    """One destination of a publisher: a project's webhook endpoint, a CMS, a bucket.

    ``key`` is stable for the destination (one delivery per asset and key); ``url`` and
    ``secret`` are set for destinations owners configure per project. The secret is never
    in the repr, so it cannot reach a log through one.
    """

    key: str
    label: str
    url: str = ""
    secret: str = field(default="", repr=False)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishAttempt:
    """Which delivery this call is: the same ``delivery_id`` on every retry, a fresh one
    for a manual redelivery; ``event_id`` is the same for both (receivers deduplicate)."""

    delivery_id: str
    event: str  # "asset.signed" or "ping"
    event_id: str
    number: int  # 1 for the first attempt
    timestamp: int  # Unix seconds, taken for this attempt


@dataclass(frozen=True)
class PublishOutcome:
    """What one attempt achieved; ``retry`` asks for another attempt later (a network
    error, a 5xx, a 429), ``ok`` False without ``retry`` gives up at once (a 4xx)."""

    ok: bool
    status_code: int | None = None
    retry: bool = False
    error: str = ""


class Publisher(abc.ABC):
    """Pushes approved, signed assets onward (``register_publishers``).

    The platform calls ``publish`` from a Celery task per (asset, target), after the
    signing has committed, and keeps the delivery log, the retries with backoff and the
    audit events; a publisher only says how one attempt went. ``publish`` must not raise
    for an ordinary failure (return an outcome with the error instead) and must respect
    ``target.options["timeout"]`` (seconds) where it does network I/O.
    """

    id: ClassVar[str]
    description: ClassVar[str] = ""
    #: True: owners add this publisher's destinations per project (URL and secret), as
    #: for webhooks; False: ``targets`` names the destinations.
    owner_endpoints: ClassVar[bool] = False

    def targets(self, asset: PublishedAsset) -> Sequence[PublishTarget]:
        """Destinations for ``asset`` when ``owner_endpoints`` is False (default: one)."""
        return [PublishTarget(key="default", label=self.id)]

    @abc.abstractmethod
    def publish(self, asset: PublishedAsset | None, target: PublishTarget,
                attempt: PublishAttempt) -> PublishOutcome:
        """Deliver ``asset`` to ``target`` once (``asset`` is None for a test ping)."""
