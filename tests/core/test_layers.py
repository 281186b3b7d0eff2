"""The layers hold: import-linter's contracts, and no function-local import of Assay code.

A function-local import is how a cycle between layers usually hides; the only ones allowed
are Django's ``AppConfig.ready`` (which must import after the app registry is ready) and a
plugin's lazy import of its heavy ML module inside a hook (torch, diffusers: seconds to
import), each named here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OURS = ("assay", "governance", "plugins")
ALLOWED = {
    # plugin hooks that build demo models import their torch-heavy module only when called
    ("plugins/image_diffusers/plugin.py", "plugins.image_diffusers.demo_model"),
    ("plugins/text_transformers/plugin.py", "plugins.text_transformers.demo_model"),
}


def test_import_linter_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


def _local_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) or func.name == "ready":
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found += [(node.lineno, n) for n in names if n.split(".")[0] in OURS]
    return found


def test_no_function_local_imports_of_assay_code():
    offenders = []
    for root in ("platform/assay", "governance", "plugins"):
        for path in sorted((REPO / root).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if "/migrations/" in rel:
                continue
            offenders += [f"{rel}:{line} imports {name}" for line, name in _local_imports(path)
                          if (rel, name) not in ALLOWED]
    assert not offenders, "function-local imports (move them to the top):\n" + "\n".join(
        offenders)
