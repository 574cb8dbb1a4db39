"""Every status and number on screen belongs to what is shown now (issue 19's stale-state cases).

Each test reproduces one case a user met: a status from another scan, a late progress record
after Cancel, an error that outlived its scan, a dataset called written while only its
``.part`` file exists, results of a job started for another scan or generation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QObject, Slot

import stmdenoise.gui.session as session_module
from stmdenoise.gui.session import ViewKey
from stmdenoise.gui.tasks import DenoiseRecord, DenoiseResult, ModelInfo
from stmdenoise.gui.workers import Tagged
from stmdenoise.io import write_scan
from stmdenoise.scan import Scan
from tests.gui.conftest import file_mime, wait_idle


def _scans(tmp_path: Path, n: int = 3) -> list[Path]:
    """Small calibrated scans (HDF5 keeps units and pixel size), each with its own pattern."""
    rng = np.random.default_rng(5)
    out = []
    for i in range(n):
        data = rng.normal(0, 5e-12, (48, 40 + 8 * i)) + 1e-10 * i
        scan = Scan(data=data, pixel_size=(1.4e-10, 1.4e-10), channel="Z", unit="m", bias=0.1 * (i + 1))
        out.append(write_scan(scan, tmp_path / f"s{i}.h5"))
    return out


def _open(qtbot, window, paths: list[Path]) -> None:  # type: ignore[no-untyped-def]
    window.scan_list.drop_mime(file_mime(paths))
    wait_idle(qtbot, window)


@pytest.fixture
def fake_model(window) -> ModelInfo:  # type: ignore[no-untyped-def]
    model = ModelInfo("fake-model", Path("/nonexistent/fake-model"), "user")
    window.session.set_model(model)
    return model


def _slow_job_factory(log: list[str], *, fail: bool = False, late: bool = True) -> Callable[..., Any]:
    """A denoise job that reports progress until cancelled, then (late) one more record."""

    def factory(
        scan: Scan, model_dir: Path, device: str, cache: Any, *_: Any
    ) -> Callable[..., Iterator[Any]]:
        def job(cancel: threading.Event) -> Generator[DenoiseRecord, None, DenoiseResult | None]:
            if fail:
                raise RuntimeError("the model file is damaged")
            for i in range(400):
                yield DenoiseRecord(i % 8, 8, f"denoising: network pass {i % 8} of 8")
                if cancel.is_set():
                    # what a real network pass does: the record of the pass in flight arrives late
                    yield DenoiseRecord(2, 8, "denoising: network pass 2 of 8")
                    log.append("cancelled")
                    return
                time.sleep(0.01)
            return DenoiseResult(scan.with_data(np.zeros(scan.shape)), "done")

        return job

    return factory


def _quick_job(scan: Scan, model_dir: Path, device: str, cache: Any, *_: Any) -> Callable[..., Iterator[Any]]:
    def job(cancel: threading.Event) -> Generator[DenoiseRecord, None, DenoiseResult]:
        yield DenoiseRecord(1, 1, "done")
        return DenoiseResult(scan.with_data(np.asarray(scan.data) * 0.5), "done")

    return job


def test_auto_off_empty_denoised_view_never_names_a_model(
    qtbot, window, tmp_path: Path, fake_model, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(session_module, "denoise_job", _quick_job)
    s = window.session
    _open(qtbot, window, _scans(tmp_path, 2))
    assert not s.auto_denoise
    states: list[Any] = []
    s.denoise_state_changed.connect(states.append)
    before = s.view_key
    assert s.denoise()  # scan 0 is denoised on request
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: s.denoised is not None, timeout=5000)
    assert window.denoise_panel.status.text() == "fake-model: done"
    assert states[-1].phase == "done" and not states[-1].busy
    # scores computed for the raw image alone are stale once the denoised one is shown
    assert not s.is_current(before) and s.view_key.scan == before.scan
    s.select(1)  # not denoised: nothing may say it was
    assert s.denoised is None
    for text in (window.denoise_panel.status.text(), window.views.den.note.toPlainText()):
        assert "fake-model" not in text and "not denoised yet" in text
    s.select(0)  # back: the cached result and its status
    assert s.denoised is not None and window.denoise_panel.status.text() == "fake-model: done"


def test_cancelled_denoise_keeps_saying_cancelled(
    qtbot, window, tmp_path: Path, fake_model, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    log: list[str] = []
    monkeypatch.setattr(session_module, "denoise_job", _slow_job_factory(log))
    s = window.session
    _open(qtbot, window, _scans(tmp_path, 1))
    assert s.denoise()
    qtbot.waitUntil(lambda: "network pass" in window.denoise_panel.status.text(), timeout=10000)
    s.cancel_denoise()
    wait_idle(qtbot, window)
    qtbot.wait(50)  # queued records delivered
    assert log == ["cancelled"]
    status = window.denoise_panel.status.text()
    assert "cancelled" in status and "network pass" not in status
    assert "network pass" not in window.views.den.note.toPlainText()
    assert not window.denoise_panel.cancel_button.isEnabled()


def test_a_failure_belongs_to_its_scan(qtbot, window, tmp_path: Path, fake_model, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(session_module, "denoise_job", _slow_job_factory([], fail=True))
    s = window.session
    _open(qtbot, window, _scans(tmp_path, 2))
    s.denoise()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: "failed" in window.denoise_panel.status.text(), timeout=5000)
    s.select(1)
    assert "failed" not in window.denoise_panel.status.text()
    assert "failed" not in window.views.den.note.toPlainText()
    s.select(0)  # the failure is still true for scan 0 (until Denoise is pressed again)
    assert "the model file is damaged" in window.denoise_panel.status.text()


def test_status_bar_error_cleared_when_a_good_scan_is_selected(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "a_bad.sxm"
    bad.write_bytes(b"not a scan at all")
    good = _scans(tmp_path, 1)
    _open(qtbot, window, [bad, *good])
    s = window.session
    s.select(0)
    assert "a_bad.sxm" in window.statusBar().currentMessage()
    s.select(1)
    assert "a_bad.sxm" not in window.statusBar().currentMessage()


def test_folder_opens_on_a_readable_scan_and_says_what_it_skipped(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "day"
    folder.mkdir()
    (folder / "a_broken.sxm").write_bytes("8STiVIEW".encode("utf-16-le"))  # UTF-16 text, not Nanonis
    _scans(folder, 1)
    (folder / "notes.txt").write_text("tip changed at 14:02")
    (folder / "PROVENANCE.tsv").write_text("x\ty")
    messages: list[str] = []
    window.session.message.connect(messages.append)
    _open(qtbot, window, [folder])
    s = window.session
    assert [e.name for e in s.entries] == ["a_broken.sxm", "s0.h5"]
    assert s.current == 1 and s.raw is not None  # not the error entry
    assert any("2 skipped" in m and "1 unreadable" in m for m in messages), messages
    # the reader's complaint is readable: no Python bytes repr
    text = window.scan_list.list.item(0).text()
    assert "b'" not in text and "\\x00" not in text


def test_empty_views_have_no_unit_axes(window) -> None:  # type: ignore[no-untyped-def]
    """No scan: no axes (they used to label 0..1 m as millimetres)."""
    for view in (window.views.raw, window.views.den, window.views.diff):
        assert not view.plot.getAxis("bottom").isVisible()


class _Receiver(QObject):
    def __init__(self, session: Any) -> None:
        super().__init__()
        self.session = session
        self.shown: list[Any] = []
        self.dropped: list[Any] = []

    @Slot(object)
    def record(self, t: Tagged) -> None:
        (self.shown if self.session.is_current(t.tag) else self.dropped).append(t.value)


def test_view_jobs_of_an_old_scan_are_dropped(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Rapid navigation: a result computed for a scan no longer shown never reaches the panel."""
    _open(qtbot, window, _scans(tmp_path, 3))
    s = window.session
    rec = _Receiver(s)
    gate = threading.Event()

    def slow(name: str) -> Callable[..., Iterator[str]]:
        def job(cancel: threading.Event) -> Iterator[str]:
            gate.wait(5)
            yield name

        return job

    keys = []
    for i in range(3):  # like ↓ ↓ ↓: a job per scan, each outliving the selection
        s.select(i)
        keys.append(s.view_key)
        s.start_view_job(slow(f"scores of s{i}"), name="probe", on_record=rec.record)
    gate.set()
    wait_idle(qtbot, window)
    qtbot.wait(50)
    assert rec.shown == ["scores of s2"]
    assert sorted(rec.dropped) == ["scores of s0", "scores of s1"]
    assert len({k.scan for k in keys}) == 3 and all(isinstance(k, ViewKey) for k in keys)
    # another generation of the same scan (a new background) also invalidates
    key = s.view_key
    window.views.level_box.setChecked(True)
    assert not s.is_current(key) and s.view_key.scan == key.scan


def test_fft_panel_shows_the_spectrum_of_the_current_scan(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _open(qtbot, window, _scans(tmp_path, 3))
    window.docks["FFT"].raise_()
    s = window.session
    for i in (0, 1, 2, 1, 2):
        s.select(i)
    qtbot.waitUntil(lambda: window.fourier.record is not None, timeout=10000)
    wait_idle(qtbot, window)
    assert window.fourier.record is not None
    assert window.fourier.record.log_psd.shape == s.raw.shape  # type: ignore[union-attr]
    assert window.fourier.readout.text().startswith("Ring: q =")


def test_dataset_cancel_names_the_part_file(qtbot, window, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import stmdenoise.physics as physics
    from stmdenoise.physics.dataset import DatasetProgress, DatasetResult

    def fake_simulate_dataset(
        path: Path, *, count: int, cancel: threading.Event, **_: Any
    ) -> Generator[Any, None, DatasetResult]:
        part = Path(path).with_name(Path(path).name + ".part")
        part.write_bytes(b"hdf5 work file")
        for i in range(count):
            if cancel.is_set():
                return DatasetResult(str(part), i, count, False)
            time.sleep(0.02)
            yield DatasetProgress(i + 1, count, f"image {i}", str(part))
        part.rename(path)
        yield DatasetProgress(
            count, count, "image done", str(path)
        )  # the result says complete, not a message
        return DatasetResult(str(path), count, count, True)

    monkeypatch.setattr(physics, "simulate_dataset", fake_simulate_dataset)
    panel = window.simulation
    out = tmp_path / "set.h5"
    panel.dataset_count.setValue(500)
    panel.generate_dataset(out)
    qtbot.waitUntil(lambda: panel.progress.value() >= 3, timeout=10000)
    panel.cancel_dataset()
    wait_idle(qtbot, window)
    text = panel.status.text()
    assert not out.exists() and "written" not in text
    assert "cancelled" in text and "set.h5.part" in text
    # a run that completes says written
    panel.dataset_count.setValue(3)
    panel.generate_dataset(out)
    wait_idle(qtbot, window)
    assert out.exists() and panel.status.text().endswith("3 pair(s) written")
