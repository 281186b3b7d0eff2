"""Helpers for the admin screens' tests: a broken plugin installed for real, and signing
credentials with a chosen validity."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

import pytest

from assay.plugins.manager import reset_plugins
from governance.provenance.credentials import ROOT_CERT, make_root, write_signer

BROKEN_MESSAGE = "this plugin is broken on purpose"


def install_broken_plugin(root: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    """A distribution on sys.path whose module raises on import, as a real broken install
    would; the process's plugin manager is rebuilt (not strict) to discover it. Callers
    call :func:`reset_plugins` when done."""
    (root / "admin_broken_mod.py").write_text(f"raise RuntimeError({BROKEN_MESSAGE!r})\n")
    info = root / "admin_broken_plugin-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: admin-broken-plugin\n"
                                   "Version: 1.2\n")
    (info / "entry_points.txt").write_text(textwrap.dedent("""\
        [assay]
        admin_broken = admin_broken_mod
    """))
    monkeypatch.syspath_prepend(str(root))
    settings.ASSAY_PLUGINS_STRICT = False
    reset_plugins()


def signing_valid_for(folder: Path, settings: Any, days: float) -> None:
    """Point signing at a fresh certificate that ends ``days`` from now."""
    now = dt.datetime.now(dt.UTC)
    root, root_key = make_root(now)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ROOT_CERT).write_bytes(b"")  # no trust anchor needed to read it back
    write_signer(folder, root, root_key, not_before=now - dt.timedelta(days=1),
                 not_after=now + dt.timedelta(days=days))
    settings.ASSAY_SIGNING_DIR = folder
    settings.ASSAY_SIGNING_CERT = settings.ASSAY_SIGNING_KEY = ""
    settings.ASSAY_TSA_URL = ""
