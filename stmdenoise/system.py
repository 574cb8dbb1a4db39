"""What this computer offers STM Denoise: OS, versions, NVIDIA driver, CUDA, GPUs, Qt's system libraries.

Used by ``bootstrap.py`` (before anything is installed), by ``stmdenoise-gui`` before Qt starts,
and by the app's Help ▸ System dialog. This module imports only the standard library at import
time: ``bootstrap.py`` loads it by path with a bare Python, before numpy, torch or Qt exist.
torch and the rest of the package are imported inside :func:`gather_report` only.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "QT_LIBRARY_PACKAGES",
    "NvidiaDriver",
    "GpuInfo",
    "QtLibraryCheck",
    "SystemReport",
    "parse_nvidia_smi",
    "parse_proc_driver_version",
    "parse_ldd_missing",
    "linux_family",
    "nvidia_driver",
    "pyside6_dir",
    "qt_platform_plugin",
    "missing_libraries",
    "qt_platform_in_use",
    "check_qt_platform",
    "describe_os",
    "gather_report",
    "format_report",
]

#: soname a Qt platform plugin links against -> (Debian/Ubuntu package, Fedora/RHEL package).
#: Covers what ``ldd`` lists for PySide6's ``libqxcb.so`` (plugin, Qt libraries and their X11/GL
#: dependencies); the names are those of Debian 12 / Ubuntu 22.04+ and Fedora 39+.
QT_LIBRARY_PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-present.so.0": ("libxcb-present0", "libxcb"),
    "libxcb-dri3.so.0": ("libxcb-dri3-0", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libXau.so.6": ("libxau6", "libXau"),
    "libXdmcp.so.6": ("libxdmcp6", "libXdmcp"),
    "libSM.so.6": ("libsm6", "libSM"),
    "libICE.so.6": ("libice6", "libICE"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libGLX.so.0": ("libglx0", "libglvnd-glx"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libwayland-client.so.0": ("libwayland-client0", "libwayland-client"),
    "libwayland-cursor.so.0": ("libwayland-cursor0", "libwayland-cursor"),
}


@dataclass(frozen=True)
class NvidiaDriver:
    """An installed NVIDIA driver: its version and the newest CUDA it supports (when known)."""

    version: str
    cuda: str | None = None
    source: str = ""


@dataclass(frozen=True)
class GpuInfo:
    """One GPU: name and memory in bytes (``None`` when the source does not say)."""

    name: str
    free_bytes: int | None = None
    total_bytes: int | None = None

    def describe(self) -> str:
        """``"NVIDIA H200, 139.2 of 140.0 GiB free"``."""
        if self.free_bytes is None or self.total_bytes is None:
            return self.name
        return f"{self.name}, {self.free_bytes / 2**30:.1f} of {self.total_bytes / 2**30:.1f} GiB free"


# ---------------------------------------------------------------------------------------------- parsing
_SMI_DRIVER = re.compile(r"Driver Version:\s*([0-9][0-9.]*)")
_SMI_CUDA = re.compile(r"CUDA Version:\s*([0-9]+\.[0-9]+)")
_PROC_VERSION = re.compile(r"Kernel Module(?: for \S+)?\s+([0-9]+\.[0-9.]+)")


def parse_nvidia_smi(text: str) -> NvidiaDriver | None:
    """Driver version and supported CUDA version from the header of plain ``nvidia-smi`` output.

    Examples
    --------
    >>> parse_nvidia_smi("| NVIDIA-SMI 550.54.14   Driver Version: 550.54.14   CUDA Version: 12.4 |")
    NvidiaDriver(version='550.54.14', cuda='12.4', source='nvidia-smi')
    >>> parse_nvidia_smi("NVIDIA-SMI has failed because it couldn't communicate with the driver") is None
    True
    """
    m = _SMI_DRIVER.search(text)
    if m is None:
        return None
    cuda = _SMI_CUDA.search(text)
    return NvidiaDriver(m.group(1), cuda.group(1) if cuda else None, "nvidia-smi")


def parse_proc_driver_version(text: str) -> NvidiaDriver | None:
    """Driver version from Linux's ``/proc/driver/nvidia/version``.

    Examples
    --------
    >>> parse_proc_driver_version(
    ...     "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024")
    NvidiaDriver(version='550.54.14', cuda=None, source='/proc/driver/nvidia/version')
    """
    m = _PROC_VERSION.search(text)
    return NvidiaDriver(m.group(1), None, "/proc/driver/nvidia/version") if m else None


def parse_ldd_missing(text: str) -> list[str]:
    """Sonames that ``ldd`` reports as ``not found``, in order, each once.

    Examples
    --------
    >>> parse_ldd_missing("\\tlibxcb-icccm.so.4 => not found\\n\\tlibc.so.6 => /lib/libc.so.6 (0x1)\\n"
    ...                   "\\tlibxcb-icccm.so.4 => not found\\n")
    ['libxcb-icccm.so.4']
    """
    out: list[str] = []
    for line in text.splitlines():
        left, sep, right = line.partition("=>")
        if sep and right.strip() == "not found":
            name = left.strip()
            if name and name not in out:
                out.append(name)
    return out


def linux_family(os_release: str | None = None) -> str:
    """``"debian"`` (apt), ``"fedora"`` (dnf) or ``"unknown"``, from ``/etc/os-release`` text.

    Examples
    --------
    >>> linux_family('ID=ubuntu\\nID_LIKE=debian\\n')
    'debian'
    >>> linux_family('ID="rocky"\\nID_LIKE="rhel centos fedora"\\n')
    'fedora'
    """
    if os_release is None:
        try:
            os_release = Path("/etc/os-release").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "unknown"
    ids: list[str] = []
    for line in os_release.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            ids += value.strip().strip('"').lower().split()
    if any(i in ("debian", "ubuntu") for i in ids):
        return "debian"
    if any(i in ("fedora", "rhel", "centos") for i in ids):
        return "fedora"
    return "unknown"


# ---------------------------------------------------------------------------------------------- NVIDIA
def _nvidia_smi() -> str | None:
    found = shutil.which("nvidia-smi")
    if found:
        return found
    if os.name == "nt":  # older drivers put it here, outside PATH
        for base in (
            os.environ.get("SystemRoot", r"C:\Windows") + r"\System32",
            os.environ.get("ProgramFiles", ""),
        ):
            for candidate in (
                Path(base) / "nvidia-smi.exe",
                Path(base) / "NVIDIA Corporation" / "NVSMI" / "nvidia-smi.exe",
            ):
                if candidate.is_file():
                    return str(candidate)
    return None


def _run_text(cmd: Sequence[str], timeout: float = 20.0) -> str | None:
    try:
        done = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def nvidia_driver() -> NvidiaDriver | None:
    """The installed NVIDIA driver, from ``nvidia-smi`` or Linux's ``/proc/driver/nvidia/version``.

    ``None`` when neither exists or ``nvidia-smi`` cannot talk to a driver.
    """
    smi = _nvidia_smi()
    if smi:
        text = _run_text([smi])
        found = parse_nvidia_smi(text) if text else None
        if found is not None:
            return found
    proc = Path("/proc/driver/nvidia/version")
    if proc.is_file():
        try:
            return parse_proc_driver_version(proc.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return None
    return None


def _smi_gpus() -> tuple[GpuInfo, ...]:
    smi = _nvidia_smi()
    text = (
        _run_text([smi, "--query-gpu=name,memory.free,memory.total", "--format=csv,noheader,nounits"])
        if smi
        else None
    )
    gpus = []
    for line in (text or "").splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3:
            try:
                gpus.append(GpuInfo(parts[0], int(float(parts[1]) * 2**20), int(float(parts[2]) * 2**20)))
            except ValueError:
                gpus.append(GpuInfo(parts[0]))
    return tuple(gpus)


# ---------------------------------------------------------------------------------------------- Qt libraries
def pyside6_dir() -> Path | None:
    """Folder of the PySide6 package, found without importing Qt (``None`` if not installed)."""
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass and (Path(meipass) / "PySide6").is_dir():  # a PyInstaller bundle
        return Path(meipass) / "PySide6"
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def qt_platform_plugin(name: str = "xcb", *, pyside_dir: Path | None = None) -> Path | None:
    """Path of Qt's platform plugin ``name`` inside PySide6 (``libqxcb.so`` for ``xcb``), if present."""
    base = pyside_dir if pyside_dir is not None else pyside6_dir()
    if base is None:
        return None
    plugin = base / "Qt" / "plugins" / "platforms" / f"libq{name}.so"
    return plugin if plugin.is_file() else None


def missing_libraries(library: Path) -> list[str]:
    """Shared libraries that ``library`` (or what it links) needs and the system lacks.

    Asks ``ldd`` (every missing soname at once); where ``ldd`` is absent, loads the library with
    ``dlopen`` and reports the one soname the loader names.
    """
    ldd = shutil.which("ldd")
    if ldd:
        try:
            done = subprocess.run(
                [ldd, str(library)], capture_output=True, text=True, timeout=60, check=False
            )
        except (OSError, subprocess.SubprocessError):
            done = None
        if done is not None and (done.stdout or done.returncode == 0):
            return parse_ldd_missing(done.stdout)
    import ctypes

    try:
        ctypes.CDLL(str(library))
    except OSError as exc:
        m = re.match(r"\s*([^\s:]+\.so[.0-9]*): cannot open shared object file", str(exc))
        return [m.group(1)] if m else [str(exc)]
    return []


def qt_platform_in_use(environ: Mapping[str, str] | None = None) -> str:
    """The Qt platform plugin a GUI start would use on this system (``xcb``, ``wayland``, ...).

    ``QT_QPA_PLATFORM`` wins; otherwise Qt 6 takes Wayland in a Wayland session and xcb (X11)
    elsewhere on Linux. On Windows and macOS, ``windows`` / ``cocoa``.
    """
    env = os.environ if environ is None else environ
    chosen = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "cocoa"
    if env.get("XDG_SESSION_TYPE") == "wayland" and env.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "xcb"


@dataclass(frozen=True)
class QtLibraryCheck:
    """Result of checking the system libraries of one Qt platform plugin."""

    platform: str
    plugin: Path | None
    missing: tuple[str, ...] = ()
    family: str = "unknown"

    @property
    def ok(self) -> bool:
        """True when nothing is missing."""
        return not self.missing

    def packages(self, family: str | None = None) -> list[str]:
        """Package names providing the missing sonames for ``family`` (``debian`` or ``fedora``)."""
        col = 1 if (family or self.family) == "fedora" else 0
        out: list[str] = []
        for soname in self.missing:
            pkg = QT_LIBRARY_PACKAGES.get(soname)
            if pkg is not None and pkg[col] not in out:
                out.append(pkg[col])
        return out

    def unknown(self) -> list[str]:
        """Missing sonames this module has no package name for."""
        return [s for s in self.missing if s not in QT_LIBRARY_PACKAGES]

    def commands(self) -> list[str]:
        """The install command(s) to show: apt-get, dnf, or both when the distribution is unknown."""
        out = []
        if self.family in ("debian", "unknown") and self.packages("debian"):
            out.append("sudo apt-get install -y " + " ".join(self.packages("debian")))
        if self.family in ("fedora", "unknown") and self.packages("fedora"):
            out.append("sudo dnf install -y " + " ".join(self.packages("fedora")))
        return out

    def message(self) -> str:
        """What to tell the user (empty when nothing is missing)."""
        if self.ok:
            return ""
        lines = [
            f"Qt's {self.platform} platform plugin cannot start: these system libraries are missing:",
            "    " + " ".join(self.missing),
            f"    (found with ldd {self.plugin})",
            "Install them with:",
        ]
        lines += [f"    {c}" for c in self.commands()]
        if self.unknown():
            lines.append("    and the packages providing: " + " ".join(self.unknown()))
        return "\n".join(lines)


def check_qt_platform(
    environ: Mapping[str, str] | None = None, *, pyside_dir: Path | None = None, family: str | None = None
) -> QtLibraryCheck | None:
    """Check the system libraries of the Qt platform plugin a GUI start would load (Linux only).

    Returns ``None`` where there is nothing to check: not Linux, a platform without system
    libraries of its own (``offscreen``, ``minimal``), or PySide6 not installed.
    """
    if not sys.platform.startswith("linux"):
        return None
    name = qt_platform_in_use(environ)
    if name not in ("xcb", "wayland", "eglfs"):
        return None
    plugin = qt_platform_plugin(name, pyside_dir=pyside_dir)
    if plugin is None:
        return None
    return QtLibraryCheck(name, plugin, tuple(missing_libraries(plugin)), family or linux_family())


# ---------------------------------------------------------------------------------------------- the report
@dataclass(frozen=True)
class SystemReport:
    """What the Help ▸ System dialog and the first-run check show."""

    os: str
    python: str
    app_version: str
    torch_version: str | None
    torch_cuda: str | None
    cuda_available: bool
    cuda_reason: str
    gpus: tuple[GpuInfo, ...]
    device: str
    driver: NvidiaDriver | None
    onnxruntime: str | None = None
    frozen: bool = False
    qt: QtLibraryCheck | None = field(default=None)

    @property
    def on_cpu(self) -> bool:
        """True when denoising and training run on the CPU."""
        return self.device == "cpu"

    def cpu_notice(self) -> str:
        """The notice to show when running on the CPU (empty otherwise)."""
        if not self.on_cpu:
            return ""
        return (
            "STM Denoise runs on the CPU: denoising works, but is slower than on an NVIDIA GPU, and "
            "training takes far longer. " + self.cuda_reason
        )

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs in display order."""
        torch_text = "not installed" if self.torch_version is None else self.torch_version
        if self.torch_version is not None:
            torch_text += f" (CUDA {self.torch_cuda} build)" if self.torch_cuda else " (CPU-only build)"
        driver = "none found" if self.driver is None else self.driver.version
        if self.driver is not None and self.driver.cuda:
            driver += f" (supports CUDA ≤ {self.driver.cuda})"
        rows = [
            ("Operating system", self.os),
            ("STM Denoise", self.app_version + (" (bundle)" if self.frozen else "")),
            ("Python", self.python),
            ("PyTorch", torch_text),
            ("ONNX Runtime", self.onnxruntime or "not installed"),
            ("NVIDIA driver", driver),
            ("CUDA available", "yes" if self.cuda_available else f"no: {self.cuda_reason}"),
            ("GPUs", "; ".join(g.describe() for g in self.gpus) if self.gpus else "none"),
            ("Device used", self.device),
        ]
        if self.qt is not None:
            rows.append(
                (
                    f"Qt platform ({self.qt.platform})",
                    "system libraries complete" if self.qt.ok else self.qt.message(),
                )
            )
        return rows


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _onnxruntime_version() -> str | None:
    found = _version("onnxruntime")
    if found is not None:
        return found
    try:  # a PyInstaller bundle carries the module without its dist-info
        import onnxruntime
    except ImportError:
        return None
    return str(getattr(onnxruntime, "__version__", "unknown version"))


def _cuda_reason(torch_mod: object | None, driver: NvidiaDriver | None) -> str:
    """Why CUDA is not available, in one sentence that says what to do."""
    if torch_mod is None:
        return "PyTorch is not installed."
    import torch

    built = torch.version.cuda
    if built is None:
        if driver is None:
            return "No NVIDIA driver was found and this PyTorch is a CPU-only build."
        return (
            f"An NVIDIA driver ({driver.version}) is installed but this PyTorch ({torch.__version__}) is a "
            "CPU-only build: install the CUDA edition (`python3 bootstrap.py --cuda install`, or the "
            "CUDA edition of the installer)."
        )
    if driver is None:
        return f"This PyTorch is built for CUDA {built} but no NVIDIA driver was found."
    if driver.cuda and _as_tuple(driver.cuda) < _as_tuple(built):
        return (
            f"The NVIDIA driver {driver.version} supports CUDA up to {driver.cuda}, this PyTorch needs CUDA "
            f"{built}: update the driver."
        )
    try:
        torch.cuda.init()
    except (RuntimeError, AssertionError) as exc:
        return f"CUDA failed to start: {exc}"
    return "CUDA reports no usable device."


def _as_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:2])


def describe_os() -> str:
    """``"Debian GNU/Linux 12 (bookworm), kernel 6.1.0 (x86_64)"``, ``"Windows 11 (10.0.22631, AMD64)"``."""
    machine = platform.machine()
    if sys.platform.startswith("linux"):
        try:
            name = platform.freedesktop_os_release().get("PRETTY_NAME", "Linux")
        except OSError:
            name = "Linux"
        return f"{name}, kernel {platform.release()} ({machine})"
    if sys.platform == "win32":
        return f"Windows {platform.release()} ({platform.version()}, {machine})"
    if sys.platform == "darwin":
        return f"macOS {platform.mac_ver()[0]} ({machine})"
    return f"{platform.system()} {platform.release()} ({machine})"


def gather_report(*, device: str = "auto", qt_environ: Mapping[str, str] | None = None) -> SystemReport:
    """Look at this computer: versions, driver, CUDA, GPUs and the device ``device`` resolves to.

    Imports torch (a second or two the first time). ``qt_environ`` is the environment whose Qt
    platform is checked (default: this process's).
    """
    from stmdenoise import __version__

    driver = nvidia_driver()
    try:
        import torch
    except ImportError:
        torch_mod = None
    else:
        torch_mod = torch
    cuda_ok = bool(torch_mod is not None and torch.cuda.is_available())
    gpus: tuple[GpuInfo, ...] = ()
    if cuda_ok:
        found = []
        for i in range(torch.cuda.device_count()):
            try:
                free, total = torch.cuda.mem_get_info(i)
            except RuntimeError:
                found.append(GpuInfo(torch.cuda.get_device_name(i)))
                continue
            found.append(GpuInfo(torch.cuda.get_device_name(i), int(free), int(total)))
        gpus = tuple(found)
    elif driver is not None:
        gpus = _smi_gpus()
    chosen = "cpu"
    if torch_mod is not None:
        from stmdenoise.model.device import select_device

        try:
            chosen = str(select_device(device))
        except ValueError:
            chosen = str(select_device("auto"))
    return SystemReport(
        os=describe_os(),
        python=platform.python_version(),
        app_version=__version__,
        torch_version=None if torch_mod is None else str(torch.__version__),
        torch_cuda=None if torch_mod is None else torch.version.cuda,
        cuda_available=cuda_ok,
        cuda_reason="" if cuda_ok else _cuda_reason(torch_mod, driver),
        gpus=gpus,
        device=chosen,
        driver=driver,
        onnxruntime=_onnxruntime_version(),
        frozen=bool(getattr(sys, "frozen", False)),
        qt=check_qt_platform(qt_environ),
    )


def format_report(report: SystemReport, *, width: int = 18) -> str:
    """The report as plain text, one ``label: value`` line each (multi-line values indented)."""
    lines = []
    for label, value in report.rows():
        first, *rest = value.splitlines() or [""]
        lines.append(f"{label + ':':<{width}} {first}")
        lines += [" " * (width + 1) + r for r in rest]
    if report.on_cpu:
        lines.append("")
        lines.append(report.cpu_notice())
    return "\n".join(lines)
