"""File > Batch denoise folder…: the dialog runs the batch off the GUI thread, cancels, resumes."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from stmdenoise.gui.batch_dialog import BatchDialog
from stmdenoise.gui.window import MainWindow
from tests.batch.conftest import make_tiny_model, write_scans


def _statuses(out: Path) -> list[str]:
    return [r["status"] for r in csv.DictReader((out / "report.csv").open(encoding="utf-8"))]


def test_batch_dialog_runs_cancels_and_resumes(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stmdenoise.batch import job

    tiny_model = make_tiny_model(tmp_path / "model")
    write_scans(tmp_path / "in", 5, rows=128)
    # frames of any file after the first wait until Cancel has been clicked: however fast a file
    # is denoised, the click lands while the batch is still running (no race with the machine)
    clicked = threading.Event()
    first: list[Path] = []
    real_denoise = job._Worker.denoise

    def gated(self, path, frame, every):  # type: ignore[no-untyped-def]
        first[:1] = first[:1] or [path]
        if path != first[0]:
            clicked.wait(60)
        return real_denoise(self, path, frame, every)

    monkeypatch.setattr(job._Worker, "denoise", gated)
    window.views.level_box.setChecked(True)  # the view's settings are the dialog's defaults
    window.views.set_colormap("viridis")
    dlg = window.batch_dialog()
    assert isinstance(dlg, BatchDialog)
    assert dlg.level.currentData() == "plane" and dlg.colormap.currentData() == "viridis"
    dlg.add_inputs([tmp_path / "in"])
    dlg.output.setText(str(tmp_path / "out"))
    dlg.model.setText(str(tiny_model))
    dlg.device.setCurrentIndex(dlg.device.findData("cpu"))

    # cancel once the first file is finished
    def first_done() -> None:
        assert dlg.last is not None and dlg.last.done >= 1

    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert dlg.running and not dlg.start_button.isEnabled()
    qtbot.waitUntil(first_done, timeout=60000)
    qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    clicked.set()
    qtbot.waitUntil(lambda: not dlg.running, timeout=60000)
    assert dlg.batch_result is not None and dlg.batch_result.cancelled
    assert "Cancelled" in dlg.status.text() and dlg.start_button.text() == "Resume"
    first = _statuses(tmp_path / "out")
    assert first[0] == "done" and "cancelled" in first

    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)  # resume
    qtbot.waitUntil(lambda: not dlg.running, timeout=60000)
    res = dlg.batch_result
    assert res is not None and not res.cancelled and res.resumed >= 1
    assert _statuses(tmp_path / "out") == ["done"] * 5
    assert dlg.report_button.isEnabled() and res.report_html.is_file()
    assert dlg.progress.value() == dlg.progress.maximum() == 5
    dlg.close()


def test_batch_dialog_says_what_is_missing(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    dlg = window.batch_dialog()
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert not dlg.running and "add at least one scan file or folder" in dlg.status.text()
    dlg.add_inputs(["/nonexistent"])
    qtbot.mouseClick(dlg.start_button, Qt.MouseButton.LeftButton)
    assert "choose an output folder" in dlg.status.text()
    dlg.close()
