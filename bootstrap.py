#!/usr/bin/env python3
"""One-command set-up for STM Denoise: ``python bootstrap.py app`` or ``python bootstrap.py test``.

Creates ``.venv`` beside this file (once), installs the project into it with the pinned
versions of ``requirements/constraints.txt`` (again only when pyproject.toml or the
constraints change), then either launches the app on its embedded defaults or runs the
whole test suite. Needs only Python >= 3.10 with pip and venv; works on Windows, Linux, macOS.

    python bootstrap.py app  [ARGS...]   # set up, then open the GUI (extra args go to the app)
    python bootstrap.py test [ARGS...]   # set up with test extras, then run pytest (extra args go to pytest)
    python bootstrap.py install          # set up only (used by the installer scripts in installer/)
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("STMDENOISE_VENV", ROOT / ".venv"))
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"


def _venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def _run(cmd: list[str | os.PathLike[str]], **kwargs: object) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call([str(c) for c in cmd], **kwargs)  # type: ignore[arg-type]


def _ensure_env(extras: str) -> Path:
    """Create the venv and (re)install the project when its inputs changed; return its python."""
    py = _venv_python()
    if not py.exists():
        print(f"Creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, upgrade_deps=False).create(VENV)
    digest = hashlib.sha256()
    for f in (ROOT / "pyproject.toml", CONSTRAINTS):
        digest.update(f.read_bytes())
    digest.update(extras.encode())
    stamp = VENV / f".stmdenoise-installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return py
    target = f".[{extras}]" if extras else "."
    rc = _run(
        [py, "-m", "pip", "install", "--disable-pip-version-check", "-c", CONSTRAINTS, "-e", target], cwd=ROOT
    )
    if rc != 0:
        sys.exit(f"bootstrap: installing the project into {VENV} failed (pip exit code {rc})")
    stamp.write_text(digest.hexdigest())
    return py


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("app", "test", "install"):
        print(__doc__)
        return 2
    what, rest = argv[0], argv[1:]
    if what == "install":
        py = _ensure_env("")
        print(f"STM Denoise is installed in {VENV}; start it with {py} -m stmdenoise", flush=True)
        return 0
    if what == "app":
        py = _ensure_env("")
        # the README's "open the app on its embedded defaults": the example scan on every start,
        # not only the first (the installed launcher shows it on the first start only)
        gui = not rest or rest[0].startswith("-")  # `app info FILE` stays a CLI call
        extra = ["--example"] if gui and "--no-example" not in rest else []
        return _run([py, "-m", "stmdenoise", *rest, *extra], cwd=ROOT)
    py = _ensure_env("test")
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return _run([py, "-m", "pytest", *rest], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
