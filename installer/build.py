#!/usr/bin/env python3
"""Build the one-folder bundle ``dist/STM-Denoise/`` with PyInstaller (and optionally smoke-test it).

    python installer/build.py [--edition cpu|cuda] [--smoke-test] [--dist DIR]

Run it with the Python of an environment that has the project and PyInstaller installed:

    python3 bootstrap.py install                      # or: python3 bootstrap.py --cuda install
    .venv/bin/python -m pip install -c requirements/constraints.txt -e ".[bundle]"
    .venv/bin/python installer/build.py --smoke-test  # Windows: .venv\\Scripts\\python installer\\build.py

The edition is the torch build of that environment: ``--edition cuda`` refuses to build from a
CPU-only torch (and the other way round), so a bundle's name never lies about what it carries.
Steps: render the icons from the SVG (installer/icons.py), run PyInstaller on
installer/stmdenoise.spec, copy the Linux desktop-integration scripts next to the executables,
print the bundle's size and the build time; ``--smoke-test`` then runs
``stmdenoise-gui --smoke-test`` from the bundle (opens the example scan, denoises it, writes the
result) and fails the build when it fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "installer" / "stmdenoise.spec"
NAME = "STM-Denoise"
LINUX_FILES = ("install.sh", "uninstall.sh", "stmdenoise.desktop.in", "stmdenoise-mime.xml")


def torch_edition() -> str:
    """``cuda`` when this Python's torch is a CUDA build, else ``cpu`` (torch imported once)."""
    import torch

    return "cuda" if torch.version.cuda else "cpu"


def folder_size(path: Path) -> int:
    """Bytes of every file below ``path`` (links not followed)."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def build(edition: str, dist: Path, work: Path) -> Path:
    """Render icons, run PyInstaller, add the Linux scripts; return the bundle folder."""
    icons = work / "icons"
    # a process of its own: Qt (offscreen) stays out of this one, and its environment out of the smoke test's
    subprocess.run(
        [sys.executable, str(ROOT / "installer" / "icons.py"), str(icons)],
        check=True,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    env = dict(os.environ, STMDENOISE_EDITION=edition, STMDENOISE_ICON_DIR=str(icons))
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--distpath",
        str(dist),
        "--workpath",
        str(work / "pyinstaller"),
        str(SPEC),
    ]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    bundle = dist / NAME
    if sys.platform.startswith("linux"):
        target = bundle / "linux"
        target.mkdir(exist_ok=True)
        for name in LINUX_FILES:
            shutil.copy2(ROOT / "installer" / "linux" / name, target / name)
    (bundle / "EDITION.txt").write_text(f"{edition}\n", encoding="utf-8")
    return bundle


def smoke_test(bundle: Path, out: Path) -> int:
    """Run the bundle's ``--smoke-test`` with its own user folder; return its exit code.

    It uses this environment's display (Linux: ``DISPLAY``, e.g. Xvfb's); set
    ``QT_QPA_PLATFORM=offscreen`` to run it without one.
    """
    exe = bundle / ("stmdenoise-gui.exe" if os.name == "nt" else "stmdenoise-gui")
    env = dict(os.environ, STMDENOISE_USER_DIR=str(out / "user"))
    env.pop("PYTHONPATH", None)  # the bundle must not need the source tree
    env.pop("STMDENOISE_HOME", None)
    cmd = [str(exe), "--smoke-test", str(out)]
    print("+", " ".join(cmd), flush=True)
    return subprocess.call(cmd, env=env, cwd=out.parent)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the STM Denoise bundle with PyInstaller")
    parser.add_argument(
        "--edition", choices=["cpu", "cuda"], help="torch build to bundle (default: this Python's)"
    )
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build", help="work folder (default: build/)")
    parser.add_argument("--smoke-test", action="store_true", help="run the built app's --smoke-test")
    args = parser.parse_args(argv)
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        print('build.py: PyInstaller is missing: pip install -c requirements/constraints.txt -e ".[bundle]"')
        return 2
    have = torch_edition()
    edition = args.edition or have
    if edition != have:
        print(
            f"build.py: --edition {edition} needs a {edition} build of torch, this Python has a {have} build"
        )
        return 2
    start = time.monotonic()
    bundle = build(edition, args.dist.resolve(), args.work.resolve())
    took = time.monotonic() - start
    size = folder_size(bundle)
    print(f"bundle: {bundle} ({edition} edition), {size / 2**20:.0f} MiB, built in {took / 60:.1f} min")
    if args.smoke_test:
        out = args.work.resolve() / "smoke-test"
        shutil.rmtree(out, ignore_errors=True)
        code = smoke_test(bundle, out)
        print(f"smoke test: {'passed' if code == 0 else f'FAILED (exit code {code})'}; output in {out}")
        return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
