"""The dependency direction of HOUSE_STYLE.md, proven rather than hoped for."""

from __future__ import annotations

import re
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


def _readme_layers() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- layers: begin", 1)[1].split("<!-- layers: end -->", 1)[0]
    body = block.split("```text", 1)[1].split("```", 1)[0]
    lines = (line.split("#", 1)[0].strip() for line in body.splitlines())
    return [" | ".join(part.strip() for part in line.split("|")) for line in lines if line]


def _contract_layers() -> list[str]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    assert layers["containers"] == ["stmdenoise"]
    return [" | ".join(part.strip() for part in str(layer).split("|")) for layer in layers["layers"]]


def test_readme_layer_diagram_is_the_import_linter_contract() -> None:
    """README.md's architecture diagram and pyproject.toml's layers contract say the same thing."""
    assert _readme_layers() == _contract_layers()


def test_every_package_module_has_a_layer() -> None:
    """A new top-level module must be placed in the diagram (else the contract ignores it)."""
    placed = {name.strip("() ") for layer in _contract_layers() for name in layer.split("|")}
    pkg = ROOT / "stmdenoise"
    present = {p.stem for p in pkg.glob("*.py") if not p.stem.startswith("__")}
    present |= {p.name for p in pkg.iterdir() if (p / "__init__.py").is_file()}
    assert present <= placed, f"not in the layers of pyproject.toml and README.md: {sorted(present - placed)}"


def test_the_package_never_imports_its_own_modules_by_name() -> None:
    """importlib.import_module of our own modules hides imports from import-linter and mypy.

    Optional third-party packages (the ``[baselines]`` extra) may be imported by name, through
    the one helper ``evaluation.baselines._optional``, whose callers name literal packages.
    """
    allowed = {"stmdenoise/evaluation/baselines.py"}
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "stmdenoise").rglob("*.py")
        if ("import_module(" in (text := p.read_text(encoding="utf-8")) or "__import__(" in text)
        and str(p.relative_to(ROOT)) not in allowed
    ]
    assert offenders == []
    own = re.compile(r"""_optional\(\s*f?["']stmdenoise""")
    assert not own.search((ROOT / "stmdenoise/evaluation/baselines.py").read_text(encoding="utf-8"))
