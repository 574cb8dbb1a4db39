"""stmdenoise.system: what the machine offers (driver, CUDA, Qt's system libraries), without Qt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stmdenoise import system
from stmdenoise.system import NvidiaDriver, QtLibraryCheck

ROOT = Path(__file__).resolve().parent.parent

SMI = """\
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 570.86.15              Driver Version: 570.86.15      CUDA Version: 12.8     |
|-----------------------------------------+------------------------+----------------------+
"""
LDD = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f1)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2)
"""


def test_parses_the_driver_and_its_cuda_version() -> None:
    assert system.parse_nvidia_smi(SMI) == NvidiaDriver("570.86.15", "12.8", "nvidia-smi")
    assert system.parse_nvidia_smi("No devices were found") is None
    proc = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release Build  (dvs-builder)"
    assert system.parse_proc_driver_version(proc) == NvidiaDriver(
        "570.86.15", None, "/proc/driver/nvidia/version"
    )


def test_ldd_missing_libraries_are_named_once_each() -> None:
    assert system.parse_ldd_missing(LDD) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]


def test_missing_xcb_libraries_map_to_apt_and_dnf_packages() -> None:
    check = QtLibraryCheck(
        "xcb", Path("/x/libqxcb.so"), ("libxcb-icccm.so.4", "libxcb-keysyms.so.1"), "debian"
    )
    assert not check.ok
    assert check.commands() == ["sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1"]
    fedora = QtLibraryCheck("xcb", Path("/x/libqxcb.so"), check.missing, "fedora")
    assert fedora.commands() == ["sudo dnf install -y xcb-util-wm xcb-util-keysyms"]
    unknown = QtLibraryCheck("xcb", Path("/x/libqxcb.so"), (*check.missing, "libfoo.so.9"), "unknown")
    assert len(unknown.commands()) == 2  # both, the distribution being unknown
    assert "libfoo.so.9" in unknown.message()  # never silently dropped
    assert QtLibraryCheck("xcb", None, (), "debian").message() == ""


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"QT_QPA_PLATFORM": "offscreen"}, "offscreen"),
        ({"QT_QPA_PLATFORM": "xcb;wayland"}, "xcb"),
        ({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, "wayland"),
        ({"DISPLAY": ":0"}, "xcb"),
    ],
)
def test_the_platform_qt_would_use(env: dict[str, str], expected: str) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux platform selection")
    assert system.qt_platform_in_use(env) == expected


def test_offscreen_needs_no_system_check() -> None:
    assert system.check_qt_platform({"QT_QPA_PLATFORM": "offscreen"}) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb plugin is Linux-only")
def test_the_real_xcb_plugin_is_checked_and_every_missing_library_has_a_package() -> None:
    check = system.check_qt_platform({"DISPLAY": ":0"})
    if check is None:
        pytest.skip("PySide6's xcb plugin is not installed")
    assert check.plugin is not None and check.plugin.name == "libqxcb.so"
    # whatever this machine lacks, the message names a package for it
    assert check.unknown() == [], check.message()


def test_linux_family_from_os_release() -> None:
    assert system.linux_family("ID=debian\n") == "debian"
    assert system.linux_family("ID=fedora\nVERSION_ID=40\n") == "fedora"
    assert system.linux_family("ID=arch\n") == "unknown"


def test_module_imports_with_the_standard_library_only() -> None:
    """bootstrap.py loads it with a bare Python before numpy or torch exist (-S: no site-packages)."""
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('s', {str(ROOT / 'stmdenoise' / 'system.py')!r})\n"
        "m = importlib.util.module_from_spec(spec); sys.modules['s'] = m; spec.loader.exec_module(m)\n"
        "print(m.linux_family('ID=debian'))\n"
    )
    res = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "debian"


def test_report_on_a_cpu_machine_says_why_not_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    monkeypatch.setattr(system, "nvidia_driver", lambda: None)
    report = system.gather_report(qt_environ={"QT_QPA_PLATFORM": "offscreen"})
    assert report.device == "cpu" and report.on_cpu and not report.cuda_available
    assert report.torch_version == torch.__version__
    if torch.version.cuda is None:
        assert report.cuda_reason == "No NVIDIA driver was found and this PyTorch is a CPU-only build."
    assert "runs on the CPU" in report.cpu_notice()
    text = system.format_report(report)
    assert "Device used:" in text and "cpu" in text


def test_a_driver_with_a_cpu_only_torch_says_to_install_the_cuda_edition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    torch = pytest.importorskip("torch")
    if torch.version.cuda is not None:
        pytest.skip("this torch is a CUDA build")
    monkeypatch.setattr(system, "nvidia_driver", lambda: NvidiaDriver("570.86.15", "12.8", "nvidia-smi"))
    monkeypatch.setattr(
        system, "_smi_gpus", lambda: (system.GpuInfo("NVIDIA RTX A4000", 15 * 2**30, 16 * 2**30),)
    )
    report = system.gather_report(qt_environ={"QT_QPA_PLATFORM": "offscreen"})
    assert "CPU-only build" in report.cuda_reason and "--cuda" in report.cuda_reason
    rows = dict(report.rows())
    assert rows["GPUs"] == "NVIDIA RTX A4000, 15.0 of 16.0 GiB free"
    assert rows["NVIDIA driver"].startswith("570.86.15")
