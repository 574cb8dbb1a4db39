"""The dependency direction of HOUSE_STYLE.md, proven rather than hoped for."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CORE_QT_FREE = [
    "stmdenoise.scan",
    "stmdenoise.io",
    "stmdenoise.processing",
    "stmdenoise.physics",
    "stmdenoise.metrics",
    "stmdenoise.cli.main",
    "stmdenoise.outputs",
    "stmdenoise.batch",
]
TORCH_FREE = [
    "stmdenoise.scan",
    "stmdenoise.io",
    "stmdenoise.processing",
    "stmdenoise.physics",
    "stmdenoise.metrics",
]


def _import_with_blocked(modules: list[str], blocked: list[str]) -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(
        f"""
        import importlib, sys
        for name in {blocked!r}:
            sys.modules[name] = None  # any import of it raises ImportError
        for name in {modules!r}:
            importlib.import_module(name)
        """
    )
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)


def test_core_imports_without_qt() -> None:
    res = _import_with_blocked(CORE_QT_FREE, ["PySide6", "pyqtgraph", "shiboken6"])
    assert res.returncode == 0, res.stderr


def test_physics_metrics_io_processing_import_without_torch() -> None:
    res = _import_with_blocked(TORCH_FREE, ["torch"])
    assert res.returncode == 0, res.stderr


def test_the_batch_job_imports_without_torch() -> None:
    """The model is loaded when the first scan needs it: the app's dialog and a finished rerun stay light."""
    res = _import_with_blocked(["stmdenoise.batch", "stmdenoise.cli.batch", "stmdenoise.outputs"], ["torch"])
    assert res.returncode == 0, res.stderr


def test_import_linter_contracts_hold() -> None:
    exe = Path(sys.executable).with_name("lint-imports")
    res = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
