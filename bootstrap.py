#!/usr/bin/env python3
"""One-command set-up for STM Denoise: ``python3 bootstrap.py app`` or ``python3 bootstrap.py test``.

Creates ``.venv`` beside this file (once), installs PyTorch in the build that fits this computer
(CUDA when an NVIDIA driver is present, CPU otherwise) and the project with the pinned versions of
``requirements/constraints.txt`` (again only when pyproject.toml, the constraints or the torch
choice change), checks the system libraries Qt needs (Linux), then launches the app on its
embedded defaults or runs the whole test suite. Needs Python >= 3.10 with pip and venv
(Debian/Ubuntu: ``sudo apt-get install python3-venv``); works on Windows, Linux, macOS.

    python3 bootstrap.py [--cpu|--cuda] app  [ARGS...]  # set up, check, open the GUI (ARGS go to the app)
    python3 bootstrap.py [--cpu|--cuda] test [ARGS...]  # set up with test+baselines extras, run pytest
    python3 bootstrap.py [--cpu|--cuda] install         # set up only (e.g. to build the bundle)
    python3 bootstrap.py [--cpu|--cuda] check           # set up, report driver, CUDA, GPUs, Qt's libraries

--cpu / --cuda override the torch build picked from the NVIDIA driver (also STMDENOISE_TORCH=cpu|cuda).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import subprocess
import sys
import urllib.error
import urllib.request
import venv
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("STMDENOISE_VENV", ROOT / ".venv"))
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
PYTORCH_INDEX = os.environ.get("STMDENOISE_TORCH_INDEX_BASE", "https://download.pytorch.org/whl")
#: PyTorch's CUDA wheel variants, newest first: (lowest CUDA the driver must support, index suffix).
#: A driver reports the newest CUDA it supports (``nvidia-smi``); we take the newest variant it runs.
CUDA_VARIANTS: tuple[tuple[tuple[int, int], str], ...] = (
    ((13, 0), "cu130"),
    ((12, 8), "cu128"),
    ((12, 6), "cu126"),
)
COMMANDS = ("app", "test", "install", "check")


def _system() -> ModuleType:
    """``stmdenoise/system.py`` loaded by path: it needs only the standard library."""
    spec = importlib.util.spec_from_file_location("_stmdenoise_system", ROOT / "stmdenoise" / "system.py")
    if spec is None or spec.loader is None:
        raise ImportError("stmdenoise/system.py is missing")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is created
    spec.loader.exec_module(module)
    return module


def _venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def _run(cmd: list[str | os.PathLike[str]], **kwargs: object) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call([str(c) for c in cmd], **kwargs)  # type: ignore[arg-type]


def _pinned_torch() -> str:
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("torch=="):
            return line.split("#")[0].strip()
    return "torch"


@dataclass(frozen=True)
class TorchChoice:
    """Which torch build to install and why."""

    kind: str  # "cpu" or "cuda"
    index: str | None  # PyTorch wheel index for this build; None: the default package index
    reason: str


def choose_torch(
    override: str | None, driver: object | None, *, system: str | None = None, machine: str | None = None
) -> TorchChoice:
    """Pick the torch build: CUDA when an NVIDIA driver is present, CPU otherwise; ``override`` wins.

    ``driver`` is a ``stmdenoise.system.NvidiaDriver`` (or None). On Linux x86_64 PyPI's torch is
    a multi-gigabyte CUDA build and on Windows a CPU build, so both builds come from PyTorch's own
    index there; macOS has only the CPU/MPS build on PyPI.
    """
    system = system or platform.system()
    machine = (machine or platform.machine()).lower()
    version = getattr(driver, "version", None)
    cuda = getattr(driver, "cuda", None)
    if override not in (None, "cpu", "cuda"):
        raise ValueError(f"torch build must be 'cpu' or 'cuda', got {override!r}")
    if system == "Darwin":
        return TorchChoice("cpu", None, "macOS: PyTorch's build from PyPI (CPU, Apple GPUs through MPS)")
    kind = override or ("cuda" if driver is not None else "cpu")
    if kind == "cpu":
        why = "--cpu given" if override else "no NVIDIA driver found (no nvidia-smi, no /proc/driver/nvidia)"
        if override and driver is not None:
            why += f", although NVIDIA driver {version} is installed"
        index = None if system == "Windows" and not machine.endswith("64") else f"{PYTORCH_INDEX}/cpu"
        return TorchChoice("cpu", index, f"CPU build of PyTorch: {why}")
    if driver is None:
        return TorchChoice(
            "cuda",
            f"{PYTORCH_INDEX}/{CUDA_VARIANTS[-1][1]}",
            "CUDA build of PyTorch: --cuda given (no NVIDIA driver found)",
        )
    wanted = tuple(int(p) for p in cuda.split(".")[:2]) if cuda else None
    for need, suffix in CUDA_VARIANTS:
        if wanted is None or wanted >= need:
            return TorchChoice(
                "cuda",
                f"{PYTORCH_INDEX}/{suffix}",
                f"CUDA build of PyTorch ({suffix}): NVIDIA driver {version} supports CUDA {cuda or 'unknown'}"
                + (" (--cuda given)" if override else ""),
            )
    oldest = ".".join(str(p) for p in CUDA_VARIANTS[-1][0])
    if override:
        return TorchChoice(
            "cuda",
            f"{PYTORCH_INDEX}/{CUDA_VARIANTS[-1][1]}",
            f"CUDA build of PyTorch: --cuda given, but driver {version} supports only CUDA {cuda} "
            f"(< {oldest}): "
            "update the driver or CUDA will not start",
        )
    return TorchChoice(
        "cpu",
        f"{PYTORCH_INDEX}/cpu",
        f"CPU build of PyTorch: NVIDIA driver {version} supports only CUDA {cuda}, PyTorch needs {oldest} "
        "or newer; update the driver and rerun with --cuda",
    )


def _reachable(url: str, timeout: float = 8.0) -> bool:
    """True when ``url`` answers (so pip will not spend minutes retrying an unreachable index)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url + "/", method="HEAD"), timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True  # the server answered
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _installed_torch(py: Path) -> str | None:
    """Version string of torch in the venv (``2.13.0+cpu``), without importing it."""
    code = (
        "import importlib.metadata as m\ntry: print(m.version('torch'))\nexcept m.PackageNotFoundError: pass"
    )
    done = subprocess.run([str(py), "-c", code], capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


def _install_torch(py: Path, choice: TorchChoice, previous: str | None) -> None:
    """Install the pinned torch in the chosen build (replacing another build chosen before)."""
    pin = _pinned_torch()
    if previous is not None and previous != choice.kind and _installed_torch(py):
        print(f"Replacing the {previous} build of torch by the {choice.kind} build", flush=True)
        _run([py, "-m", "pip", "uninstall", "-y", "torch"])
    cmd: list[str | os.PathLike[str]] = [
        py,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "-c",
        CONSTRAINTS,
    ]
    if choice.index is not None:
        if _reachable(choice.index):
            cmd += ["--index-url", choice.index]  # PyTorch's index also serves torch's dependencies
        else:
            print(
                f"bootstrap: {choice.index} is not reachable: installing {pin} from your pip configuration "
                "(PyPI, a wheelhouse or mirror); check the build reported below",
                flush=True,
            )
    rc = _run([*cmd, pin], cwd=ROOT)
    if rc != 0:
        sys.exit(f"bootstrap: installing {pin} ({choice.kind} build) into {VENV} failed (pip exit code {rc})")


def _report_torch(py: Path, choice: TorchChoice) -> None:
    """Say which torch build was installed (it can differ from the choice when its index was unreachable)."""
    code = "import torch\nprint(torch.__version__, torch.version.cuda or 'cpu')"
    done = subprocess.run([str(py), "-c", code], capture_output=True, text=True, check=False)
    parts = done.stdout.split()
    if done.returncode != 0 or len(parts) != 2:
        error = done.stderr.strip()[-500:]
        print(f"bootstrap: warning: torch does not import in {VENV}: {error}", flush=True)
        return
    version, cuda = parts
    got = "cpu" if cuda == "cpu" else "cuda"
    build = "CPU build" if got == "cpu" else f"CUDA {cuda} build"
    print(f"bootstrap: torch {version} installed ({build})", flush=True)
    if got != choice.kind:
        print(
            f"bootstrap: warning: the {choice.kind} build was chosen but the {got} build was installed "
            f"(was {choice.index} reachable?); rerun when it is, or install that build from a wheelhouse",
            flush=True,
        )


def _ensure_env(extras: str, choice: TorchChoice) -> Path:
    """Create the venv and (re)install torch and the project when their inputs changed; return its python."""
    py = _venv_python()
    if not py.exists():
        print(f"Creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, upgrade_deps=False).create(VENV)
    digest = hashlib.sha256()
    for f in (ROOT / "pyproject.toml", CONSTRAINTS):
        digest.update(f.read_bytes())
    digest.update(extras.encode())
    digest.update(choice.kind.encode())
    stamp = VENV / f".stmdenoise-installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return py
    torch_stamp = VENV / ".stmdenoise-torch"
    previous = torch_stamp.read_text().strip() if torch_stamp.exists() else None
    _install_torch(py, choice, previous)
    _write(torch_stamp, choice.kind)
    target = f".[{extras}]" if extras else "."
    rc = _run(
        [py, "-m", "pip", "install", "--disable-pip-version-check", "-c", CONSTRAINTS, "-e", target], cwd=ROOT
    )
    if rc != 0:
        sys.exit(f"bootstrap: installing the project into {VENV} failed (pip exit code {rc})")
    _report_torch(py, choice)
    _write(stamp, digest.hexdigest())
    return py


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _pyside_dir(py: Path) -> Path | None:
    code = (
        "import importlib.util as u\ns = u.find_spec('PySide6')\n"
        "print(s.submodule_search_locations[0] if s else '')"
    )
    done = subprocess.run([str(py), "-c", code], capture_output=True, text=True, check=False)
    out = done.stdout.strip()
    return Path(out) if out else None


def qt_problem(py: Path, system: ModuleType, environ: dict[str, str] | None = None) -> str:
    """The message naming missing Qt system libraries and their packages ('' when none are missing)."""
    pyside = _pyside_dir(py)
    if pyside is None:
        return ""
    check = system.check_qt_platform(os.environ if environ is None else environ, pyside_dir=pyside)
    return "" if check is None else str(check.message())


def parse_args(argv: list[str]) -> tuple[str | None, str | None, list[str]]:
    """Split ``[--cpu|--cuda] COMMAND [--cpu|--cuda] ARGS...`` into (override, command, args)."""
    override = os.environ.get("STMDENOISE_TORCH") or None
    i = 0
    while i < len(argv) and argv[i] in ("--cpu", "--cuda"):
        override = argv[i][2:]
        i += 1
    if i >= len(argv) or argv[i] not in COMMANDS:
        return override, None, argv[i:]
    command, rest = argv[i], argv[i + 1 :]
    while rest and rest[0] in ("--cpu", "--cuda"):
        override, rest = rest[0][2:], rest[1:]
    return override, command, rest


def main(argv: list[str]) -> int:
    override, what, rest = parse_args(argv)
    if what is None:
        print(__doc__)
        return 2
    system = _system()
    try:
        choice = choose_torch(override, system.nvidia_driver())
    except ValueError as exc:
        print(f"bootstrap: {exc}", file=sys.stderr)
        return 2
    print(f"bootstrap: {choice.reason}", flush=True)
    if what == "test":
        py = _ensure_env("test,baselines", choice)  # the suite also checks the optional baselines
        env = dict(os.environ)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        return _run([py, "-m", "pytest", *rest], cwd=ROOT, env=env)
    py = _ensure_env("", choice)
    if what == "install":
        problem = qt_problem(py, system)
        if problem:
            print(f"\nbootstrap: warning: the app will not open until this is fixed.\n{problem}", flush=True)
        print(f"STM Denoise is installed in {VENV}; start it with {py} -m stmdenoise", flush=True)
        return 0
    if what == "check":
        code = (
            "from stmdenoise.system import gather_report, format_report\n"
            "print(format_report(gather_report()))"
        )
        rc = _run([py, "-c", code], cwd=ROOT)
        return 1 if rc != 0 or qt_problem(py, system) else 0
    gui = not rest or rest[0].startswith("-")  # `app info FILE` stays a CLI call
    if gui:
        problem = qt_problem(py, system)
        if problem:
            print(
                f"\nbootstrap: the app cannot open.\n{problem}\nThen run `python3 bootstrap.py app` again.",
                file=sys.stderr,
            )
            return 3
    # the README's "open the app on its embedded defaults": the example scan on every start,
    # not only the first (the installed launcher shows it on the first start only)
    extra = ["--example"] if gui and "--no-example" not in rest else []
    return _run([py, "-m", "stmdenoise", *rest, *extra], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
