"""Plugin discovery: real entry points, broken plugins isolated, strict mode, hooks."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assay import Publisher, PublishOutcome, hookimpl
from assay.core.exceptions import InvalidInput
from assay.generation.models import GenerationJob
from assay.generation.runtime import run_job
from assay.generation.services import submit_generation
from assay.plugins import hookspecs, manager
from assay.plugins.manager import PluginLoadError, build_plugins
from assay.studio.models import Asset
from governance.usage.models import UsageRecord

REPO = Path(__file__).resolve().parents[2]


def make_distribution(root: Path, dist: str, module: str, source: str, version: str = "9.9"
                      ) -> Path:
    """A real installed-looking distribution (dist-info with entry_points.txt) on a path."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[assay]\n{dist} = {module}\n")
    return root


@pytest.fixture
def broken_site(tmp_path, monkeypatch):
    """Three extra plugins on sys.path: one raises on import, one needs API 2, one is fine."""
    make_distribution(tmp_path, "broken-plugin", "broken_plugin_mod",
                      "raise RuntimeError('this plugin is broken on purpose')\n")
    make_distribution(tmp_path, "future-plugin", "future_plugin_mod", """
        ASSAY_API = ">=2"
        from assay import hookimpl

        @hookimpl
        def register_generators():
            return []
    """)
    make_distribution(tmp_path, "typo-plugin", "typo_plugin_mod", """
        from assay import hookimpl

        @hookimpl
        def register_generatorz():
            return []
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_installed_distributions_are_discovered_through_entry_points():
    plugins = build_plugins(strict=True)
    by_name = {s.name: s for s in plugins.statuses}
    dummy = by_name["dummy"]
    assert dummy.distribution == "assay-dummy-plugin" and dummy.version == "0.3.0"
    assert dummy.status == "ok" and "register_generators" in dummy.hooks
    assert plugins.generator("dummy-echo") is not None
    assert plugins.generator_plugin["dummy-echo"] == "dummy"
    assert by_name["text_transformers"].generators == ["text-transformers"]


def test_a_broken_plugin_is_listed_with_its_error_and_the_others_still_work(broken_site):
    plugins = build_plugins(strict=False)
    by_name = {s.name: s for s in plugins.statuses}
    assert by_name["broken-plugin"].status == "failed"
    assert "broken on purpose" in by_name["broken-plugin"].error
    assert by_name["future-plugin"].status == "incompatible"
    assert "needs Assay plugin API >=2" in by_name["future-plugin"].error
    assert by_name["typo-plugin"].status == "failed"
    assert "register_generatorz" in by_name["typo-plugin"].error
    assert by_name["dummy"].status == "ok"
    assert plugins.generator("dummy-echo") is not None


def test_strict_mode_raises_on_the_first_broken_plugin(broken_site):
    with pytest.raises(PluginLoadError, match="broken-plugin"):
        build_plugins(strict=True)


def test_plugins_command_lists_every_plugin_with_status(broken_site):
    env = {"PYTHONPATH": str(broken_site), "DJANGO_SETTINGS_MODULE": "assay.test_settings",
           "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "manage.py", "plugins", "--json"], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["broken-plugin"]["status"] == "failed"
    assert "broken on purpose" in rows["broken-plugin"]["error"]
    assert rows["dummy"]["status"] == "ok" and rows["dummy"]["version"] == "0.3.0"
    text = subprocess.run([sys.executable, "manage.py", "plugins"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120).stdout
    assert "broken-plugin" in text and "error: RuntimeError: this plugin is broken" in text


def test_duplicate_generator_ids_are_refused():
    import assay_dummy.plugin as first

    class Copy:
        from assay import hookimpl

        @staticmethod
        @hookimpl
        def register_generators():
            from assay_dummy.generator import DummyTextGenerator

            class Impostor(DummyTextGenerator):
                pass

            return [Impostor]

    plugins = build_plugins(strict=False, entry_points=[], extra=[("a", first), ("b", Copy)])
    statuses = {s.name: s for s in plugins.statuses}
    assert statuses["b"].status == "failed"
    assert "already registered by plugin 'a'" in statuses["b"].error


def test_a_hook_returning_the_wrong_type_is_refused():
    class Bad:
        from assay import hookimpl

        @staticmethod
        @hookimpl
        def register_generators():
            return ["not a class"]

    plugins = build_plugins(strict=False, entry_points=[], extra=[("bad", Bad)])
    assert plugins.statuses[0].status == "failed"
    assert "not a Generator subclass" in plugins.statuses[0].error


# --- one test per hook, named after it ------------------------------------------------

def test_hook_register_generators():
    plugins = build_plugins(strict=True)
    results = plugins.pm.hook.register_generators()
    ids = {cls.id for result in results for cls in result}
    assert {"dummy-echo", "text-transformers"} <= ids


def test_hook_register_checks():
    class WithCheck:
        from assay import Check, hookimpl

        class Length(Check):
            id = "length"

            def run(self, asset, context):
                return {"status": "pass"}

        @staticmethod
        @hookimpl
        def register_checks():
            return [WithCheck.Length]

    plugins = build_plugins(strict=True, entry_points=[], extra=[("c", WithCheck)])
    assert plugins.checks == {"length": WithCheck.Length}


def test_hook_build_demo_models(tmp_path):
    plugins = build_plugins(strict=True)
    impls = {impl.plugin_name for impl in plugins.pm.hook.build_demo_models.get_hookimpls()}
    assert "text_transformers" in impls


def test_hook_asset_approved():
    seen = []

    class Publisher:
        from assay import hookimpl

        @staticmethod
        @hookimpl
        def asset_approved(asset_id, project, sha256):
            seen.append((asset_id, project, sha256))

    plugins = build_plugins(strict=True, entry_points=[], extra=[("pub", Publisher)],
                            builtins=())
    plugins.pm.hook.asset_approved(asset_id="a1", project="launch", sha256="ab",
                                   review_id=7, correlation_id="req-1")
    assert seen == [("a1", "launch", "ab")]  # an implementation may take fewer arguments
    assert plugins.statuses[0].hooks == ["asset_approved"]


def test_hook_register_publishers():
    class Shelf(Publisher):
        id = "shelf"

        def publish(self, asset, target, attempt):
            return PublishOutcome(ok=True, status_code=200)

    class WithPublisher:
        @staticmethod
        @hookimpl
        def register_publishers():
            return [Shelf]

    plugins = build_plugins(strict=True, entry_points=[], extra=[("p", WithPublisher)],
                            builtins=())
    assert plugins.pm.hook.register_publishers() == [[Shelf]]
    assert plugins.statuses[0].hooks == ["register_publishers"]
    # the first-party webhooks plugin registers through the same hook
    installed = build_plugins(strict=True)
    ids = {cls.id for result in installed.pm.hook.register_publishers() for cls in result}
    assert "webhooks" in ids
    assert Shelf().targets(None)[0].key == "default"


def _process_manager(monkeypatch, *extra):
    """This process's plugin manager with ``extra`` plugins added (and the built-ins)."""
    plugins = build_plugins(strict=True, extra=list(extra))
    monkeypatch.setattr(manager, "_process_plugins", lambda: plugins)
    return plugins


def test_hook_generation_submitting(users, template, monkeypatch):
    class Freeze:
        @staticmethod
        @hookimpl
        def generation_submitting(user, project, generator, parameters):
            if parameters.get("seed") == 13:
                raise InvalidInput("No generations with seed 13 during the freeze.")

    _process_manager(monkeypatch, ("freeze", Freeze))
    with pytest.raises(InvalidInput, match="freeze"):
        submit_generation(users["creator"], project=template.project, template="blurb",
                          variables={"product": "Kite"}, parameters={"seed": 13})
    assert not GenerationJob.objects.exists()  # refused inside the job's transaction
    submit_generation(users["creator"], project=template.project, template="blurb",
                      variables={"product": "Kite"}, parameters={"seed": 14})
    assert GenerationJob.objects.count() == 1


def test_hook_generation_succeeded(users, template, monkeypatch,
                                   django_capture_on_commit_callbacks):
    seen = []

    class Meter:
        @staticmethod
        @hookimpl
        def generation_succeeded(job):
            seen.append((str(job.pk), job.status))

    _process_manager(monkeypatch, ("meter", Meter))
    with django_capture_on_commit_callbacks(execute=False):
        job = submit_generation(users["creator"], project=template.project, template="blurb",
                                variables={"product": "Kite"})
        assert run_job(str(job.pk), worker="w") == "succeeded"
    assert seen == [(str(job.pk), "succeeded")]
    # the built-in usage plugin wrote the job's usage in the same transaction
    assert UsageRecord.objects.filter(job=job).count() == 1


def test_hook_assets_stored(users, template, monkeypatch, django_capture_on_commit_callbacks):
    seen = []

    class Listener:
        @staticmethod
        @hookimpl
        def assets_stored(asset_ids):
            seen.extend(asset_ids)

    _process_manager(monkeypatch, ("listener", Listener))
    with django_capture_on_commit_callbacks(execute=False):
        job = submit_generation(users["creator"], project=template.project, template="blurb",
                                variables={"product": "Kite"})
    with django_capture_on_commit_callbacks(execute=True):
        run_job(str(job.pk), worker="w")
    assert seen == [str(a.pk) for a in Asset.objects.filter(job=job)] and seen


def test_builtin_plugins_are_never_skipped():
    with pytest.raises(ModuleNotFoundError):
        build_plugins(strict=False, entry_points=[], builtins=["governance.no_such_hooks"])
    plugins = build_plugins(strict=False, entry_points=[])
    names = {plugins.pm.get_name(p) for p in plugins.pm.get_plugins()}
    assert {"builtin:governance.usage.hooks", "builtin:governance.review.hooks",
            "builtin:governance.provenance.hooks"} <= names


def test_every_hookspec_has_a_test_named_after_it():
    names = [n for n in dir(hookspecs) if callable(getattr(hookspecs, n))
             and hasattr(getattr(hookspecs, n), "assay_spec")]
    source = Path(__file__).read_text()
    assert names, "no hookspecs found"
    for name in names:
        assert f"def test_hook_{name}(" in source, f"hook {name} has no test_hook_{name}"


def test_the_entry_point_group_is_assay():
    groups = {ep.name for ep in importlib.metadata.entry_points(group="assay")}
    assert {"text_transformers", "image_diffusers", "quality_checks", "factuality"} <= groups
    # the test-only distribution registers in its own group, which only tests load
    assert {ep.name for ep in importlib.metadata.entry_points(group="assay.testing")} == {"dummy"}
    assert "dummy" not in groups


def test_the_run_settings_never_load_the_test_plugin():
    """``make test`` installs the dummy plugin into the venv ``make run`` uses too."""
    env = {"DJANGO_SETTINGS_MODULE": "assay.settings", "PATH": "/usr/bin:/bin",
           "ASSAY_VAR_DIR": str(REPO / "var"), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "manage.py", "plugins", "--json"], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert "text_transformers" in rows and "dummy" not in rows
    assert not any(g.startswith("dummy") for row in rows.values()
                   for g in row.get("generators", []))
