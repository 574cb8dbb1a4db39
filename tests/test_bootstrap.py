"""bootstrap.py: the torch build it picks, its options, and the Qt check before the app starts."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bootstrap() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_bootstrap_under_test", ROOT / "bootstrap.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _driver(bootstrap: ModuleType, version: str, cuda: str | None) -> object:
    return bootstrap._system().NvidiaDriver(version, cuda, "nvidia-smi")


def test_no_driver_means_the_cpu_build_from_pytorchs_cpu_index(bootstrap: ModuleType) -> None:
    choice = bootstrap.choose_torch(None, None, system="Linux", machine="x86_64")
    assert choice.kind == "cpu"
    assert choice.index == f"{bootstrap.PYTORCH_INDEX}/cpu"  # not PyPI's multi-GB CUDA build
    assert "no NVIDIA driver" in choice.reason


def test_a_driver_picks_the_newest_cuda_build_it_supports(bootstrap: ModuleType) -> None:
    choice = bootstrap.choose_torch(
        None, _driver(bootstrap, "570.86", "12.8"), system="Windows", machine="AMD64"
    )
    assert (choice.kind, choice.index) == ("cuda", f"{bootstrap.PYTORCH_INDEX}/cu128")
    assert "570.86" in choice.reason
    newer = bootstrap.choose_torch(
        None, _driver(bootstrap, "580.1", "13.1"), system="Linux", machine="x86_64"
    )
    assert newer.index.endswith("/cu130")


def test_a_driver_too_old_for_any_cuda_build_falls_back_to_cpu_and_says_why(bootstrap: ModuleType) -> None:
    choice = bootstrap.choose_torch(
        None, _driver(bootstrap, "470.1", "11.4"), system="Linux", machine="x86_64"
    )
    assert choice.kind == "cpu"
    assert "11.4" in choice.reason and "update the driver" in choice.reason


def test_cpu_and_cuda_override_the_detection(bootstrap: ModuleType) -> None:
    driver = _driver(bootstrap, "570.86", "12.8")
    forced = bootstrap.choose_torch("cpu", driver, system="Linux", machine="x86_64")
    assert forced.kind == "cpu" and "--cpu given" in forced.reason and "570.86" in forced.reason
    assert bootstrap.choose_torch("cuda", None, system="Linux", machine="x86_64").kind == "cuda"
    with pytest.raises(ValueError, match="'rocm'"):
        bootstrap.choose_torch("rocm", None)
    assert bootstrap.choose_torch(None, driver, system="Darwin", machine="arm64").index is None


def test_options_before_or_right_after_the_command(
    bootstrap: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STMDENOISE_TORCH", raising=False)
    assert bootstrap.parse_args(["--cuda", "app", "scan.sxm"]) == ("cuda", "app", ["scan.sxm"])
    assert bootstrap.parse_args(["test", "--cpu", "-x", "--cuda"]) == ("cpu", "test", ["-x", "--cuda"])
    assert bootstrap.parse_args(["test", "tests/io"]) == (None, "test", ["tests/io"])
    assert bootstrap.parse_args(["frobnicate"])[1] is None
    monkeypatch.setenv("STMDENOISE_TORCH", "cuda")
    assert bootstrap.parse_args(["install"]) == ("cuda", "install", [])


def test_unreachable_index_is_detected_quickly(bootstrap: ModuleType) -> None:
    assert not bootstrap._reachable("http://127.0.0.1:9/whl/cpu", timeout=2)


def test_app_stops_before_qt_and_names_the_packages(
    bootstrap: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The fresh-Debian failure of issue 20: Qt's xcb plugin lacks libxcb-icccm4 and libxcb-keysyms1."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the xcb check is Linux-only")
    plugin = tmp_path / "PySide6" / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    plugin.parent.mkdir(parents=True)
    plugin.write_bytes(b"")
    fake_ldd = tmp_path / "bin" / "ldd"
    fake_ldd.parent.mkdir()
    fake_ldd.write_text(
        "#!/bin/sh\nprintf '\\tlibxcb-icccm.so.4 => not found\\n\\tlibxcb-keysyms.so.1 => not found\\n'\n"
    )
    fake_ldd.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_ldd.parent}:/usr/bin:/bin")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    started: list[object] = []
    monkeypatch.setattr(bootstrap, "_ensure_env", lambda extras, choice: Path(sys.executable))
    monkeypatch.setattr(bootstrap, "_pyside_dir", lambda py: tmp_path / "PySide6")
    monkeypatch.setattr(bootstrap, "_run", lambda cmd, **kw: started.append(cmd) or 0)
    code = bootstrap.main(["app"])
    err = capsys.readouterr().err
    assert code == 3
    assert started == []  # the app was never started
    assert "libxcb-icccm.so.4 libxcb-keysyms.so.1" in err
    assert (
        "install -y libxcb-icccm4 libxcb-keysyms1" in err
        or "dnf install -y xcb-util-wm xcb-util-keysyms" in err
    )


def test_usage_without_a_command(bootstrap: ModuleType) -> None:
    res = subprocess.run([sys.executable, str(ROOT / "bootstrap.py")], capture_output=True, text=True)
    assert res.returncode == 2
    assert "bootstrap.py [--cpu|--cuda] app" in res.stdout
