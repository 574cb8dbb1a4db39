"""Entry points: `stmdenoise-gui --screenshot`, `python -m stmdenoise`, the log file, first run."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from stmdenoise.__main__ import main as module_main
from stmdenoise.gui import app
from stmdenoise.paths import user_data_dir


@pytest.mark.realdata
def test_screenshot_renders_a_real_scan(qtbot, realdata_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "shot.png"
    code = app.main(
        [
            "--screenshot",
            str(out),
            "--size",
            "1000x700",
            "--settings",
            str(tmp_path / "s.ini"),
            str(realdata_dir / "nanonis" / "img_0071.sxm"),
        ]
    )
    assert code == 0
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1000, 700)
    # the log goes to the user data folder (no console for a gui-script on Windows)
    log = user_data_dir() / "logs" / "stmdenoise-gui.log"
    assert "starting" in log.read_text(encoding="utf-8")


def test_python_m_stmdenoise_keeps_the_cli(capsys, realdata_dir: Path) -> None:  # type: ignore[no-untyped-def]
    assert module_main(["info", str(realdata_dir / "nanonis" / "img_0071.sxm")]) == 0
    assert "img_0071" in capsys.readouterr().out


def test_first_run_opens_the_example_scan(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.paths import example_scans

    if not example_scans():
        pytest.skip("no example scan in resources/examples yet")
    settings = tmp_path / "s.ini"
    out = tmp_path / "first.png"
    assert app.main(["--screenshot", str(out), "--settings", str(settings)]) == 0
    assert out.is_file()
    from stmdenoise.gui.settings import AppSettings

    assert AppSettings(settings).first_run_done


def test_example_opens_after_the_first_run_only_when_asked(tmp_path: Path) -> None:
    from stmdenoise.gui.settings import AppSettings
    from stmdenoise.paths import example_scans

    if not example_scans():
        pytest.skip("no example scan in resources/examples yet")
    settings = AppSettings(tmp_path / "s.ini")
    example = [str(p) for p in example_scans()]
    parse = app.build_parser().parse_args
    assert app.startup_files(parse([]), settings) == example  # first run
    assert settings.first_run_done
    assert app.startup_files(parse([]), settings) == []  # later starts: an empty window
    assert app.startup_files(parse(["--example"]), settings) == example  # python bootstrap.py app
    assert app.startup_files(parse(["--example", "--no-example"]), settings) == []
    assert app.startup_files(parse(["--example", "a.sxm"]), settings) == ["a.sxm"]  # given files win


# ---------------------------------------------------------------------------------------------- issue 20
def _example() -> Path:
    from stmdenoise.paths import example_scans

    found = example_scans()
    if not found:
        pytest.skip("no example scan in resources/examples")
    return found[0]


def test_a_second_start_hands_its_file_to_the_running_window(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Double-clicking a scan in Explorer while the app runs: a second process, same user."""
    import os
    import subprocess
    import sys

    from stmdenoise.gui.single_instance import InstanceServer

    server = InstanceServer(window)
    server.attach(window)
    assert server.listen()
    scan = _example()
    env = dict(os.environ)  # same STMDENOISE_USER_DIR (conftest): the same server name
    env["QT_QPA_PLATFORM"] = "offscreen"
    proc = subprocess.Popen(
        [sys.executable, "-m", "stmdenoise", "--no-example", str(scan)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60000)
    finally:
        if proc.poll() is None:  # it opened a window of its own instead of handing over
            proc.kill()
            proc.wait()
    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    assert proc.returncode == 0, out
    qtbot.waitUntil(lambda: len(window.session.entries) == 1, timeout=20000)
    assert window.session.entries[0].path == scan.resolve()
    server.close()


def test_hand_over_in_process_and_a_stale_socket(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.gui.single_instance import InstanceServer, send_to_running

    name = "stmdenoise-test-handover"
    assert not send_to_running(["x.sxm"], name=name, timeout_ms=300)  # nobody listens: start normally
    server = InstanceServer(window, name=name)
    server.attach(window)
    assert server.listen()
    received: list[list[str]] = []
    server.files_received.connect(received.append)
    scan = _example()
    # the client side of send_to_running, driven without blocking this thread's event loop
    import json

    from PySide6.QtNetwork import QLocalSocket

    client = QLocalSocket()
    client.connectToServer(name)
    qtbot.waitUntil(lambda: client.state() == QLocalSocket.LocalSocketState.ConnectedState, timeout=5000)
    client.write(json.dumps({"files": [str(scan.resolve())]}).encode()[:10])  # arrives in pieces
    client.flush()
    qtbot.wait(50)
    client.write(json.dumps({"files": [str(scan.resolve())]}).encode()[10:] + b"\n")
    client.flush()
    qtbot.waitUntil(lambda: bool(received), timeout=10000)
    assert received == [[str(scan.resolve())]]
    qtbot.waitUntil(lambda: client.bytesAvailable() > 0, timeout=5000)
    assert bytes(client.readAll().data()) == b"ok\n"  # what lets the second process exit
    qtbot.waitUntil(lambda: len(window.session.entries) == 1, timeout=10000)
    # two starts at once (Explorer, several files): the later one never takes a live server over
    rival = InstanceServer(window, name=name)
    assert not rival.listen()
    path = server.full_name()
    server.close()
    # a crashed instance leaves its socket file behind (Unix): the next one still listens
    import socket
    import sys

    if sys.platform != "win32":
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(path)  # a socket file nobody accepts on, as a killed instance leaves
        stale.close()
        assert Path(path).exists()
    second = InstanceServer(window, name=name)
    assert second.listen()
    assert (
        send_to_running([], name=name, timeout_ms=200) is False
    )  # no event loop runs here, so no acknowledgement: the sender does not claim success
    second.close()


def test_smoke_test_denoises_the_example_and_writes_the_result(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _example()
    out = tmp_path / "smoke"
    assert app.main(["--smoke-test", str(out)]) == 0
    denoised = out / "cu111_simulated_typical_denoised.tiff"
    assert denoised.is_file() and denoised.stat().st_size > 100_000
    assert QImage(str(out / "smoke_test.png")).width() > 0
    assert "Device used:" in (out / "system.txt").read_text(encoding="utf-8")


def test_smoke_test_fails_when_nothing_can_be_opened(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "broken.sxm"
    bad.write_bytes(b"not a scan")
    assert app.main(["--smoke-test", str(tmp_path / "out"), str(bad)]) == 1


def test_missing_qt_libraries_stop_the_app_before_qt(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.system import QtLibraryCheck

    check = QtLibraryCheck("xcb", Path("/x/libqxcb.so"), ("libxcb-icccm.so.4",), "debian")
    monkeypatch.setattr(app, "check_qt_platform", lambda: check)
    assert app.main([]) == 3
    assert "sudo apt-get install -y libxcb-icccm4" in capsys.readouterr().err


def test_help_system_shows_versions_device_and_the_cpu_notice(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    from stmdenoise.system import GpuInfo, NvidiaDriver, SystemReport

    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    action = next(a for a in help_menu.actions() if a.text() == "&System…")
    action.trigger()
    dialog = window.findChild(type(window.show_system_check()), "system_check")
    assert dialog is not None
    values = {k: v.text() for k, v in dialog.values.items()}
    assert values["STM Denoise"].startswith(app.__version__)
    assert values["Device used"] == dialog.report.device
    assert dialog.notice.isVisibleTo(dialog) == dialog.report.on_cpu
    dialog.copy()
    from PySide6.QtWidgets import QApplication

    assert "Device used:" in QApplication.clipboard().text()
    # a GPU machine: no CPU notice, the GPU and its free memory listed
    from stmdenoise.gui.system_check import SystemCheckDialog

    gpu = SystemReport(
        os="Windows 11",
        python="3.11.9",
        app_version="0.1.0",
        torch_version="2.13.0+cu128",
        torch_cuda="12.8",
        cuda_available=True,
        cuda_reason="",
        gpus=(GpuInfo("NVIDIA RTX A4000", 15 * 2**30, 16 * 2**30),),
        device="cuda",
        driver=NvidiaDriver("570.86", "12.8"),
    )
    shown = SystemCheckDialog(gpu)
    qtbot.addWidget(shown)
    assert not shown.notice.isVisibleTo(shown)
    assert shown.values["GPUs"].text() == "NVIDIA RTX A4000, 15.0 of 16.0 GiB free"
    cpu = SystemCheckDialog(
        SystemReport(
            **{
                **gpu.__dict__,
                "device": "cpu",
                "cuda_available": False,
                "cuda_reason": "No NVIDIA driver was found.",
                "gpus": (),
            }
        )
    )
    qtbot.addWidget(cpu)
    assert cpu.notice.isVisibleTo(cpu) and "No NVIDIA driver was found." in cpu.notice.text()
