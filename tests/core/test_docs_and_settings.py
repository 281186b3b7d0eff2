"""The documented surface is the real one: settings, commands, the two set-up commands."""

from pathlib import Path

import pytest

from assay.conf import SETTINGS, env, env_bool, env_int

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_readme_starts_with_the_two_commands():
    head = README.split("##")[0]
    assert "make run" in head and "make test" in head


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_in_the_readme(setting):
    assert f"| `{setting.name}` |" in README


def test_undeclared_settings_cannot_be_read():
    with pytest.raises(KeyError, match="not declared"):
        env("SOMETHING_ELSE")


def test_bad_values_name_the_variable(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ValueError, match="DEBUG='maybe' is not a boolean"):
        env_bool("DEBUG")
    monkeypatch.setenv("ASSAY_JOB_MAX_ATTEMPTS", "three")
    with pytest.raises(ValueError, match="ASSAY_JOB_MAX_ATTEMPTS='three' is not a whole number"):
        env_int("ASSAY_JOB_MAX_ATTEMPTS")


def test_platform_is_the_standard_library_module():
    import platform

    assert hasattr(platform, "python_version")
    assert not (Path(__file__).resolve().parents[2] / "platform" / "__init__.py").exists()


def test_the_architecture_map_names_every_app_and_layer():
    """docs/architecture.md is the map users read: every Assay app is on it, in its layer."""
    from django.apps import apps

    doc = (Path(__file__).resolve().parents[2] / "docs" / "architecture.md").read_text()
    ours = [c.name for c in apps.get_app_configs()
            if c.name.startswith(("assay.", "governance."))]
    assert ours
    for name in ours:
        assert f"`{name}`" in doc, f"{name} is missing from docs/architecture.md"
    for layer in ("base", "domain", "governance", "faces"):
        assert f"| {layer} |" in doc
    assert "../shared" not in doc
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "../shared" not in readme and "docs/architecture.md" in readme
