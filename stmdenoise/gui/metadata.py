"""Metadata panel: the scan's geometry, acquisition parameters, processing steps and full header."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from stmdenoise.gui.session import Session
from stmdenoise.scan import Scan

__all__ = ["MetadataPanel", "scan_summary"]

_MAX_VALUE_CHARS = 200


def _si(value: float | None, unit: str) -> str:
    return "—" if value is None else pg.siFormat(value, precision=4, suffix=unit)


def scan_summary(scan: Scan) -> list[tuple[str, str]]:
    """Human rows (label, value) describing ``scan`` in convenient units."""
    size, px = scan.size, scan.pixel_size
    rows = [
        ("File", scan.source.name if scan.source else "—"),
        ("Folder", str(scan.source.parent) if scan.source else "—"),
        ("Channel", f"{scan.channel} [{scan.unit or 'unitless'}]"),
        ("Direction", scan.direction + (f", slow axis {scan.scan_direction}" if scan.scan_direction else "")),
        ("Pixels", f"{scan.shape[1]} × {scan.shape[0]} (cols × rows)"),
        (
            "Field",
            "— (no pixel size in the file)"
            if size is None
            else f"{size[1] * 1e9:.4g} × {size[0] * 1e9:.4g} nm",
        ),
        ("Pixel size", "—" if px is None else f"{px[1] * 1e12:.4g} × {px[0] * 1e12:.4g} pm"),
        ("Bias", _si(scan.bias, "V")),
        ("Setpoint", _si(scan.setpoint, "A")),
        ("Angle", f"{scan.angle:.4g}°"),
        ("Offset", f"x {scan.offset[1] * 1e9:.4g} nm, y {scan.offset[0] * 1e9:.4g} nm"),
        ("Acquired", scan.acquired.isoformat(sep=" ") if scan.acquired else "—"),
        ("Measured", f"{scan.measured_fraction * 100:.1f} % of pixels"),
    ]
    if scan.header and "sweep_value" in scan.header:  # one map of a .3ds grid
        label = str(scan.header.get("Sweep Signal", "sweep"))
        name, _, unit = label.partition(" (")
        try:
            value = _si(float(scan.header["sweep_value"]), unit.rstrip(")"))
        except ValueError:
            value = str(scan.header["sweep_value"])
        rows.insert(
            8, ("Map", f"{name or 'sweep'} = {value} (map {int(scan.header.get('sweep_index', 0)) + 1})")
        )
    if scan.steps:
        rows.append(("Processing", " → ".join(s.name for s in scan.steps)))
    return rows


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[:_MAX_VALUE_CHARS] + "…"


class MetadataPanel(QWidget):
    """Tree of the shown scan's metadata; the file header folded below."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Property", "Value"])
        self.tree.setColumnWidth(0, 120)
        self.tree.setAlternatingRowColors(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.tree)
        session.raw_changed.connect(self.show_scan)

    @Slot(object)
    def show_scan(self, scan: Scan | None) -> None:
        """Fill the tree for ``scan`` (empty when None)."""
        self.tree.clear()
        if scan is None:
            return
        for label, value in scan_summary(scan):
            item = QTreeWidgetItem([label, value])
            item.setToolTip(1, value)
            self.tree.addTopLevelItem(item)
        if scan.header:
            header = QTreeWidgetItem([f"Header ({len(scan.header)} entries)", ""])
            for key, value in scan.header.items():
                child = QTreeWidgetItem([str(key), _short(value)])
                child.setToolTip(1, _short(value))
                header.addChild(child)
            self.tree.addTopLevelItem(header)

    def rows(self) -> list[tuple[str, str]]:
        """The top-level rows shown (for tests and copy)."""
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [(item.text(0), item.text(1)) for item in items if item is not None]
