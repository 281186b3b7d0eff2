"""docs/plugins.md runs: its code blocks, extracted verbatim, are a working plugin.

Every fenced block of the cookbook whose first line is ``# cookbook: <file>`` is written
to that file of a temporary distribution; the plugin is then loaded through the entry
point its ``pyproject.toml`` block declares, its demo model is built with its own hook and
registered with the cookbook's ``register_model`` line, and jobs run through the platform
(``submit_generation`` + ``run_job`` in this process). Change the page and this runs the
changed code.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from assay import GenerationRequest, NullProgress, Progress, folder_revision
from assay.audit.context import audit_context, new_correlation_id
from assay.audit.models import AuditEvent
from assay.generation.models import GenerationJob, RegisteredModel
from assay.generation.runtime import model_cache, run_job
from assay.generation.services import submit_generation
from assay.plugins import manager
from assay.studio.models import Asset
from governance.provenance.credentials import ROOT_CERT
from governance.provenance.services import sign_asset
from governance.provenance.verify import verify_bytes
from governance.review import workflow
from governance.review.checks import run_checks
from governance.review.models import Review
from tests.conftest import make_template

ROOT = Path(__file__).resolve().parents[2]
COOKBOOK = ROOT / "docs" / "plugins.md"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FENCE = re.compile(r"^```(\w+)\n# cookbook: (\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def cookbook_blocks() -> dict[str, tuple[str, str]]:
    """{file: (language, text)} of every marked block, in page order (marker line kept)."""
    blocks: dict[str, tuple[str, str]] = {}
    for language, name, body in FENCE.findall(COOKBOOK.read_text(encoding="utf-8")):
        assert name not in blocks, f"docs/plugins.md has two blocks for {name}"
        blocks[name] = (language, f"# cookbook: {name}\n{body}")
    return blocks


@pytest.fixture(scope="module")
def cookbook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """The cookbook written out as a distribution and importable; removed afterwards."""
    blocks = cookbook_blocks()
    root = tmp_path_factory.mktemp("cookbook")
    for name, (_, text) in blocks.items():
        if "/" in name or name.endswith((".toml", ".py")):
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    pyproject = tomllib.loads(blocks["pyproject.toml"][1])
    [(ep_name, ep_value)] = pyproject["project"]["entry-points"]["assay"].items()
    package = ep_value.split(".")[0]
    sys.path.insert(0, str(root))
    try:
        yield {"root": root, "blocks": blocks, "package": package,
               "entry_point": importlib.metadata.EntryPoint(ep_name, ep_value, "assay")}
    finally:
        sys.path.remove(str(root))
        for module in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[module]
        model_cache().clear()  # its generator class is gone with the module


@pytest.fixture
def plugins(cookbook, monkeypatch):
    """This process's plugin manager: the installed plugins plus the cookbook's, strict."""
    installed = [ep for group in settings.ASSAY_PLUGIN_GROUPS
                 for ep in importlib.metadata.entry_points(group=group)]
    built = manager.build_plugins(strict=True, entry_points=[*installed, cookbook["entry_point"]])
    monkeypatch.setattr(manager, "_process_plugins", lambda: built)
    return built


@pytest.fixture
def demo_folder(cookbook, tmp_path) -> Path:
    """The demo model, built by the plugin's own build_demo_models hook."""
    plugin = importlib.import_module(cookbook["entry_point"].value)
    models_dir = tmp_path / "models"
    assert plugin.build_demo_models(models_dir=str(models_dir), force=False) == ["demo-tinygan"]
    return models_dir / "demo-tinygan"


@pytest.fixture
def registered(db, plugins, cookbook, demo_folder) -> RegisteredModel:
    """The model registered with the cookbook's own ``register_model`` line."""
    _, text = cookbook["blocks"]["register"]
    [line] = [ln for ln in text.splitlines() if "register_model" in ln]
    argv = shlex.split(line)
    args = argv[argv.index("register_model") + 1:]
    args[args.index("--source") + 1] = str(demo_folder)
    call_command("register_model", *args)
    return RegisteredModel.objects.get(generator_id="tinygan")


@pytest.fixture
def tiles(project, users, registered):
    return make_template(project, users["owner"], slug="tiles", generator="tinygan",
                         text="a poster of {{ product }} for {{ audience }}")


def submit(user, project, product="Kite", **params):
    return submit_generation(user, project=project, template="tiles",
                             variables={"product": product}, parameters=params)


def run_alone(user, project, capture, **params):
    with capture(execute=False):
        job = submit(user, project, **params)
    with capture(execute=False):
        assert run_job(str(job.pk), worker="w") == "succeeded"
    return job, Asset.objects.get(job=job)


# -- the page itself --------------------------------------------------------------------------


def test_the_page_holds_a_whole_plugin(cookbook):
    blocks = cookbook["blocks"]
    package = cookbook["package"]
    assert {f"{package}/{name}.py" for name in
            ("__init__", "plugin", "generator", "network", "demo_model")} <= set(blocks)
    assert blocks["pyproject.toml"][0] == "toml" and blocks["register"][0] == "shell"
    assert all(lang == "python" for name, (lang, _) in blocks.items() if name.endswith(".py"))
    # README and the architecture page point here.
    assert "docs/plugins.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "plugins.md" in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def test_the_plugin_loads_through_its_entry_point_without_torch(cookbook, plugins):
    status = next(s for s in plugins.statuses if s.name == cookbook["entry_point"].name)
    assert status.status == "ok", status.error
    assert status.generators == ["tinygan"]
    assert status.hooks == ["build_demo_models", "register_generators"]
    cls = plugins.generator("tinygan")
    assert (cls.modality, cls.queue, cls.version) == ("image", "gpu.image", "1.0")
    described = {p["name"]: p for p in (p.describe() for p in cls.all_parameters())}
    assert described["size"]["label"] == "Size" and described["size"]["plain"] is True
    assert "seed" in described
    code = (f"import sys; sys.path.insert(0, {str(cookbook['root'])!r}); "
            f"import {cookbook['entry_point'].value}; "
            "print(sorted({'torch', 'PIL', 'safetensors'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT / "platform")
    assert out.stdout.strip() == "[]"


def test_the_demo_build_is_seeded_and_idempotent(cookbook, demo_folder, tmp_path):
    plugin = importlib.import_module(cookbook["entry_point"].value)
    revision = folder_revision(demo_folder)
    assert sorted(p.name for p in demo_folder.iterdir()) == [
        "assay-demo.json", "config.json", "model.safetensors"]
    assert plugin.build_demo_models(models_dir=str(demo_folder.parent), force=False)
    assert folder_revision(demo_folder) == revision
    other = tmp_path / "again"
    plugin.build_demo_models(models_dir=str(other), force=True)
    assert folder_revision(other / "demo-tinygan") == revision  # same recipe, same bytes


# -- the generator, as a worker calls it ------------------------------------------------------


class Recording(Progress):
    def __init__(self, cancel_after: int | None = None) -> None:
        self.updates: list[tuple[int, float]] = []
        self.cancel_after = cancel_after

    def update(self, index: int, fraction: float) -> None:
        self.updates.append((index, fraction))

    def is_cancelled(self, index: int) -> bool:
        return self.cancel_after is not None and len(self.updates) >= self.cancel_after


def test_progress_cancellation_and_model_info(plugins, demo_folder):
    generator = plugins.generator("tinygan")()
    ref = generator.default_model(str(demo_folder.parent))
    generator.load(ref, "cpu", "float32")
    info = generator.model_info()
    assert info["revision"] == folder_revision(demo_folder)
    assert info["name"] == "assay-demo-tinygan" and "no licence" in info["licence"]
    assert generator.approximate_size_bytes() > 0

    def req(seed):
        return GenerationRequest(f"j{seed}", "a red kite", {"size": 64, "num_images": 3}, seed)

    progress = Recording()
    [result] = generator.generate([req(1)], progress)
    assert [f for _, f in progress.updates] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert [o.metadata["seed"] for o in result.outputs] == [1, 2, 3]
    assert len({o.data for o in result.outputs}) == 3
    cancelled = generator.generate([req(1)], Recording(cancel_after=1))
    assert cancelled[0].cancelled and cancelled[0].outputs == []
    [plain] = generator.generate([req(1)], NullProgress())
    assert plain.outputs[0].data == result.outputs[0].data


# -- through the platform ---------------------------------------------------------------------


def test_out_of_bounds_parameters_are_a_400_and_nothing_is_queued(
        users, tiles, django_capture_on_commit_callbacks):
    client = APIClient()
    client.force_authenticate(users["creator"])
    for params, field, words in (({"size": 100000}, "parameters.size", "must be one of"),
                                 ({"variety": 5}, "parameters.variety", "at most 2"),
                                 ({"num_images": 0}, "parameters.num_images", "at least 1")):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client.post("/api/v1/generations/", {
                "project": "launch", "template": "tiles", "variables": {"product": "Kite"},
                "parameters": params}, format="json")
        assert response.status_code == 400, response.content
        assert words in " ".join(response.json()["errors"][field])
        assert not callbacks
    assert not GenerationJob.objects.exists()


def test_a_job_stores_a_png_asset_with_its_model_and_its_checks(
        users, project, tiles, registered, demo_folder, django_capture_on_commit_callbacks):
    job, asset = run_alone(users["creator"], project, django_capture_on_commit_callbacks,
                           seed=7)
    job.refresh_from_db()
    data = asset.read_bytes()
    assert asset.kind == "image" and asset.media_type == "image/png"
    assert data.startswith(PNG_SIGNATURE) and (asset.width, asset.height) == (256, 256)
    assert hashlib.sha256(data).hexdigest() == asset.sha256
    assert job.model_ref["revision"] == registered.revision == folder_revision(demo_folder)
    assert job.model_ref["name"] == "assay-demo-tinygan"
    assert "no licence restrictions" in job.model_ref["licence"]
    assert job.usage["images"] == 1
    results = {r.check_id: r.status for r in run_checks(str(asset.pk))}
    # The image checks ran, as for any image; 256 px of varied colour passes size and blank.
    assert {"min-resolution", "blank-image", "near-duplicate", "noise-image"} <= set(results)
    assert results["min-resolution"] == results["blank-image"] == "pass"


def test_same_seed_same_bytes_alone_and_in_a_batch(
        require_postgres, users, project, tiles, settings, django_capture_on_commit_callbacks):
    settings.ASSAY_BATCH_WINDOW_MS = 0
    params = {"size": 128}
    _, alone = run_alone(users["creator"], project, django_capture_on_commit_callbacks,
                         seed=42, **params)
    jobs = []
    for i, product in enumerate(["Lamp", "Kite", "Mug"]):
        with django_capture_on_commit_callbacks(execute=False):
            jobs.append(submit(users["creator"], project, product,
                               **params, seed=42 if product == "Kite" else i))
    with django_capture_on_commit_callbacks(execute=False):
        assert run_job(str(jobs[0].pk), worker="w") == "succeeded"
    assert GenerationJob.objects.get(pk=jobs[1].pk).usage["batch_size"] == 3
    batched = [Asset.objects.get(job=job) for job in jobs]
    assert batched[1].sha256 == alone.sha256
    assert len({a.sha256 for a in batched}) == 3


def test_its_output_is_reviewed_signed_and_audited_like_any_image(
        users, project, tiles, dev_signing, django_capture_on_commit_callbacks):
    job, asset = run_alone(users["creator"], project, django_capture_on_commit_callbacks,
                           seed=3)
    run_checks(str(asset.pk))
    review = (Review.objects.filter(asset=asset).first()
              or workflow.open_review(asset, submitted_by=users["creator"]))
    with audit_context(correlation_id=new_correlation_id()), \
            django_capture_on_commit_callbacks(execute=False):
        workflow.decide(users["reviewer"], review, decision="approve",
                        content_sha256=asset.sha256)
    review.refresh_from_db()
    assert review.status == "approved"
    signed = sign_asset(asset, review)
    report = verify_bytes(signed.file.open("rb").read(),
                          anchors=(dev_signing / ROOT_CERT).read_text())
    assert report.state == "trusted", report.failures
    assert signed.embedded and signed.format == "image/png"
    assert report.summary["ai_generated"]
    assert report.summary["model"]["revision"] == job.model_ref["revision"]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"generation.model.registered", "studio.generation.submitted",
            "review.asset.approved", "provenance.asset.signed"} <= actions
