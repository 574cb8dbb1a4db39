"""GUI fixtures: a main window with an isolated settings store; worker threads joined in teardown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QMimeData, QUrl  # noqa: E402

from stmdenoise.gui.app import make_window  # noqa: E402
from stmdenoise.gui.window import MainWindow  # noqa: E402


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """One intra-op thread: the CI machine is small and shared."""
    try:
        import torch
    except ImportError:
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    """INI file of an isolated settings store."""
    return tmp_path / "settings.ini"


@pytest.fixture
def window(qtbot, settings_path: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    """A shown main window; every worker thread is cancelled and joined afterwards."""
    win = make_window(settings_path)
    qtbot.addWidget(win)
    # tests that flip through scans should not denoise each one with whatever model is shipped;
    # the denoising test switches this back on
    win.denoise_panel.auto_box.setChecked(False)
    win.resize(1200, 800)
    win.show()
    yield win
    win.shutdown()
    assert not win.session.pool.busy


def file_mime(paths: list[Path]) -> QMimeData:
    """What a file manager puts on a drag: file URLs."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p.resolve())) for p in paths])
    return mime


def wait_idle(qtbot, win: MainWindow, *, timeout: int = 60000) -> None:  # type: ignore[no-untyped-def]
    """Wait until no worker of ``win`` runs."""
    qtbot.waitUntil(lambda: not win.session.pool.busy, timeout=timeout)
