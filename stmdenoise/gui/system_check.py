"""Help ▸ System (also shown on the first start): versions, CUDA or why not, GPUs, the device used."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from stmdenoise.system import SystemReport, format_report, gather_report

__all__ = ["SystemCheckDialog"]


class SystemCheckDialog(QDialog):
    """Shows a :class:`~stmdenoise.system.SystemReport`; a yellow notice when running on the CPU."""

    def __init__(self, report: SystemReport | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("STM Denoise — System")
        self.setObjectName("system_check")
        self.report = report if report is not None else gather_report()
        layout = QVBoxLayout(self)
        self.notice = QLabel(self.report.cpu_notice())
        self.notice.setObjectName("cpu_notice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(
            "QLabel { background: #fff3cd; color: #5c4400; border: 1px solid #e0c36a; padding: 8px; }"
        )
        self.notice.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.notice.setVisible(self.report.on_cpu)
        layout.addWidget(self.notice)
        form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        for label, value in self.report.rows():
            widget = QLabel(value)
            widget.setWordWrap(True)
            widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{label}:", widget)
            self.values[label] = widget
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy to clipboard")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(620)
        # word-wrapped labels make the size hint assume a narrow dialog: size it for its real width
        self.resize(720, layout.heightForWidth(720))

    def text(self) -> str:
        """The report as plain text (what Copy puts on the clipboard)."""
        return format_report(self.report)

    @Slot()
    def copy(self) -> None:
        """Put the report on the clipboard (for a support e-mail)."""
        QApplication.clipboard().setText(self.text())
