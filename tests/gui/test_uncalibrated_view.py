"""A picture without a pixel size in the app: pixel axes, no scale bar, an honest readout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.gui.conftest import file_mime, wait_idle


def test_a_jpeg_is_shown_in_pixels_without_a_scale_bar(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QPointF

    rng = np.random.default_rng(0)
    path = tmp_path / "ko.jpg"
    Image.fromarray(rng.integers(0, 256, size=(40, 60), dtype=np.uint8)).save(path)
    assert window.scan_list.drop_mime(file_mime([path])) == 1
    wait_idle(qtbot, window)
    raw = window.session.raw
    assert raw is not None and raw.pixel_size is None
    views = window.views
    rect = views.raw.image.mapRectToParent(views.raw.image.boundingRect())
    assert (rect.width(), rect.height()) == pytest.approx((60, 40))  # one view unit per pixel
    assert views.raw.plot.getAxis("bottom").labelUnits == "px"
    assert views.raw.scale_bar is None or not views.raw.scale_bar.isVisible()
    rows = dict(window.metadata.rows())
    assert rows["Field"].startswith("— (no pixel size") and rows["Pixel size"] == "—"
    vb = views.raw.plot.getViewBox()
    with qtbot.waitSignal(views.cursor_text) as sig:
        views.graphics.scene().sigMouseMoved.emit(vb.mapViewToScene(QPointF(20.5, 10.5)))
    assert "row 10, col 20" in sig.args[0] and " nm" not in sig.args[0]
