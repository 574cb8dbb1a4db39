"""The session: scans opened in one window, the current selection and its results.

Panels call the session's methods and listen to its signals; the session never touches a
widget (napari-style separation). Long work goes through the :class:`WorkerPool`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from stmdenoise.gui.capabilities import capability
from stmdenoise.gui.entries import (
    FileRecord,
    ResultCache,
    ResultKey,
    ScanEntry,
    channel_directions,
    channel_names,
    expand_paths,
    read_files,
    read_one,
)
from stmdenoise.gui.tasks import DenoiserCache, DenoiseRecord, ModelInfo, denoise_job, preprocess, second_look
from stmdenoise.gui.workers import WorkerPool
from stmdenoise.scan import Scan

__all__ = ["Session"]

log = logging.getLogger(__name__)


class Session(QObject):
    """State of one window: entries, selection, view options, denoised results."""

    entries_added = Signal(int, int)  # first index, count
    entry_changed = Signal(int)
    current_changed = Signal(int)
    channels_changed = Signal(list, str, list, str)  # names, current, directions, current direction
    raw_changed = Signal(object)  # Scan | None (after the level/align toggles)
    denoised_changed = Signal(object)  # Scan | None
    denoise_status = Signal(str)
    denoise_progress = Signal(int, int)  # done, total (0, 0 when idle)
    message = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = WorkerPool(self)
        self.entries: list[ScanEntry] = []
        self.current = -1
        self.channel: str | None = None
        self.direction = "forward"
        self.level = False
        self.align = False
        self.model: ModelInfo | None = None
        self.device = "auto"
        self.passes = 1  # network passes averaged over mirrored copies (Denoiser.denoise)
        self.policy = "fallback"  # do-no-harm policy (stmdenoise.safety.POLICIES)
        self.auto_denoise = True
        self.raw: Scan | None = None
        self.denoised: Scan | None = None
        self.results = ResultCache()
        self.denoisers = DenoiserCache()
        self._denoise_running: ResultKey | None = None
        self._denoise_wanted: tuple[ResultKey, Scan] | None = None
        self._show_when_read = -1

    # ------------------------------------------------------------------ opening files
    def open_paths(self, paths: Iterable[str | Path]) -> int:
        """Add files (folders expanded recursively) and read them in the background.

        Returns the number of new entries; files already open are selected instead.
        """
        files = expand_paths(paths)
        known = {e.path.resolve(): i for i, e in enumerate(self.entries)}
        new = [f for f in files if f.resolve() not in known]
        if not new:
            if files:
                self.select(known[files[0].resolve()])
            else:
                self.message.emit("no scan files found")
            return 0
        first = len(self.entries)
        self._show_when_read = first  # a drop shows the first new file as soon as it is read
        self.entries.extend(ScanEntry(path=f) for f in new)
        self.entries_added.emit(first, len(new))
        missing = capability("io").missing()
        if missing is not None:
            for i in range(first, len(self.entries)):
                self.entries[i].error = missing
                self.entry_changed.emit(i)
            self.message.emit(missing)
            return len(new)
        self.pool.start(
            lambda cancel, report: read_files(new, cancel),
            name="read",
            on_record=self._file_read,
            on_failed=self._job_failed,
        )
        self.message.emit(f"reading {len(new)} file(s)…")
        return len(new)

    def index_of(self, path: Path) -> int:
        """Index of the entry for ``path`` (-1 when not open)."""
        target = path.resolve()
        for i, e in enumerate(self.entries):
            if e.path.resolve() == target:
                return i
        return -1

    @Slot(object)
    def _file_read(self, rec: FileRecord) -> None:
        i = self.index_of(rec.path)
        if i < 0:
            return
        entry = self.entries[i]
        entry.size_bytes = rec.size_bytes
        entry.loaded = True
        if rec.error is not None or rec.scan is None:
            entry.error = rec.error or "unreadable"
        else:
            entry.channels = list(rec.channels) or [rec.scan.channel]
            entry.bias = rec.scan.bias
            entry.scans[(rec.scan.channel, rec.scan.direction)] = rec.scan
        self.entry_changed.emit(i)
        if self.current < 0 or self.current == i or self._show_when_read == i:
            self._show_when_read = -1
            self.select(i)
        if rec.done == rec.total:
            self.message.emit(f"read {rec.total} file(s)")

    @Slot(str)
    def _job_failed(self, error: str) -> None:
        self.message.emit(error)

    # ------------------------------------------------------------------ selection
    def select(self, index: int) -> None:
        """Show entry ``index`` (its channel and direction chosen as before when it has them)."""
        if not 0 <= index < len(self.entries):
            raise ValueError(f"index must be in [0, {len(self.entries)}), got {index}")
        changed = index != self.current
        self.current = index
        if changed:
            self.current_changed.emit(index)
        entry = self.entries[index]
        if entry.error is not None or not entry.loaded:
            self.channels_changed.emit([], "", [], "")
            self._set_raw(None)
            if entry.error is not None:
                self.message.emit(f"{entry.name}: {entry.error_reason()}")
            return
        names = channel_names(entry.channels)
        if self.channel not in names:
            default = next(iter(entry.scans), None)
            self.channel = default[0] if default else (names[0] if names else "")
        dirs = channel_directions(entry.channels, self.channel or "")
        if self.direction not in dirs:
            self.direction = dirs[0]
        self.channels_changed.emit(names, self.channel or "", dirs, self.direction)
        self._show_current()

    def set_channel(self, name: str) -> None:
        """Show channel ``name`` of the current entry."""
        if name == self.channel:
            return
        self.channel = name
        if self.current >= 0:
            self.select(self.current)

    def set_direction(self, direction: str) -> None:
        """Show the ``"forward"`` or ``"backward"`` frame."""
        if direction not in ("forward", "backward"):
            raise ValueError(f"direction must be 'forward' or 'backward', got {direction!r}")
        if direction == self.direction:
            return
        self.direction = direction
        if self.current >= 0:
            self.select(self.current)

    def set_processing(self, *, level: bool, align: bool) -> None:
        """Toggle plane levelling and row alignment of the displayed (and denoised) data."""
        self.level, self.align = level, align
        self._show_current()

    def current_entry(self) -> ScanEntry | None:
        """The selected entry, if any."""
        return self.entries[self.current] if 0 <= self.current < len(self.entries) else None

    def _show_current(self) -> None:
        entry = self.current_entry()
        if entry is None or entry.error is not None or not entry.loaded or not self.channel:
            return
        scan = entry.scans.get((self.channel, self.direction))
        if scan is None:
            self.pool.start(
                read_one(entry.path, self.channel, self.direction),
                name="read-channel",
                on_record=self._channel_read,
                on_failed=self._job_failed,
            )
            return
        try:
            shown = preprocess(scan, level=self.level, align=self.align)
        except (ImportError, ValueError) as exc:
            self.message.emit(str(exc))
            shown = scan
        self._set_raw(shown)

    @Slot(object)
    def _channel_read(self, scan: Scan) -> None:
        if scan.source is None:
            return
        i = self.index_of(scan.source)
        if i < 0:
            return
        self.entries[i].scans[(scan.channel, scan.direction)] = scan
        if i == self.current and (scan.channel, scan.direction) == (self.channel, self.direction):
            self._show_current()

    def _set_raw(self, scan: Scan | None) -> None:
        self.raw = scan
        self.raw_changed.emit(scan)
        key = self.result_key()
        cached = self.results.get(key) if key is not None else None
        self._set_denoised(cached)
        if cached is None and scan is not None and self.auto_denoise and self.model is not None:
            self.denoise()

    def _set_denoised(self, scan: Scan | None) -> None:
        self.denoised = scan
        self.denoised_changed.emit(scan)

    # ------------------------------------------------------------------ denoising
    def result_key(self) -> ResultKey | None:
        """Cache key of the denoised version of what is shown now."""
        if self.raw is None or self.model is None or self.raw.source is None:
            return None
        return ResultKey(
            str(self.raw.source),
            self.raw.channel,
            self.raw.direction,
            str(self.model.path),
            self.level,
            self.align,
            self.passes,
            self.policy,
        )

    def set_model(
        self, model: ModelInfo | None, device: str = "auto", passes: int = 1, policy: str = "fallback"
    ) -> None:
        """Choose the model, device, passes and do-no-harm policy (shows the cached result if any)."""
        self.model, self.device, self.passes, self.policy = model, device, passes, policy
        key = self.result_key()
        cached = self.results.get(key) if key is not None else None
        self._set_denoised(cached)
        if cached is None and self.raw is not None and self.auto_denoise and model is not None:
            self.denoise()

    def denoise(self) -> bool:
        """Denoise what is shown with the chosen model (from the cache when done before)."""
        missing = capability("denoise").missing()
        if missing is not None:
            self.denoise_status.emit(missing)
            return False
        key = self.result_key()
        if key is None or self.raw is None or self.model is None:
            self.denoise_status.emit("choose a model and a scan first")
            return False
        cached = self.results.get(key)
        if cached is not None:
            self._set_denoised(cached)
            return True
        self._denoise_wanted = (key, self.raw)
        if self._denoise_running is None:
            self._start_denoise()
        elif self._denoise_running != key:
            self.pool.cancel("denoise")
        return True

    def _start_denoise(self) -> None:
        if self._denoise_wanted is None or self.model is None:
            return
        key, scan = self._denoise_wanted
        self._denoise_wanted = None
        self._denoise_running = key
        self.denoise_status.emit(
            f"denoising {scan.source.name if scan.source else ''} with {self.model.name}…"
        )
        i = self.index_of(Path(key.path))
        other = "backward" if key.direction == "forward" else "forward"
        known = self.entries[i].scans.get((key.channel, other)) if i >= 0 else None
        partner = second_look(scan, known, level=key.level, align=key.align)
        self.pool.start(
            denoise_job(scan, Path(key.model), self.device, self.denoisers, key.passes, partner, key.policy),
            name="denoise",
            on_record=self._denoise_record,
            on_failed=self._denoise_failed,
            on_finished=self._denoise_finished,
        )

    @Slot(object)
    def _denoise_record(self, rec: DenoiseRecord) -> None:
        key = self._denoise_running
        if rec.result is not None and key is not None:
            self.results.put(key, rec.result)
            if key == self.result_key():
                self._set_denoised(rec.result)
            self.denoise_status.emit(f"{Path(key.model).name}: {rec.message}")
            self.denoise_progress.emit(0, 0)
        else:
            self.denoise_progress.emit(rec.done, rec.total or 0)
            if rec.message:
                self.denoise_status.emit(rec.message)

    @Slot(str)
    def _denoise_failed(self, error: str) -> None:
        self.denoise_status.emit(f"denoising failed: {error}")

    @Slot()
    def _denoise_finished(self) -> None:
        self._denoise_running = None
        self.denoise_progress.emit(0, 0)
        if self._denoise_wanted is not None:
            self._start_denoise()

    @property
    def denoising(self) -> bool:
        """True from the start of a denoising job until its ``finished`` callback has run."""
        return self._denoise_running is not None

    def cancel_denoise(self) -> None:
        """Stop the running denoising job."""
        self._denoise_wanted = None
        self.pool.cancel("denoise")
        self.denoise_status.emit("denoising cancelled")

    def export(self, path: Path, *, which: str = "denoised", colormap: str = "afmhot") -> Path:
        """Write the shown raw or denoised scan to ``path`` (format from the extension).

        Uses :func:`stmdenoise.io.write_scan`: atomic, and it refuses to overwrite the input file.
        """
        if which not in ("raw", "denoised"):
            raise ValueError(f"which must be 'raw' or 'denoised', got {which!r}")
        scan = self.raw if which == "raw" else self.denoised
        if scan is None:
            raise ValueError(f"there is no {which} image to export")
        write_scan = capability("io").get("write_scan")
        inputs = [scan.source] if scan.source is not None else []
        io_name = {"grey": "greyscale"}.get(colormap, colormap)  # the writer's name for it
        return Path(write_scan(scan, path, inputs=inputs, colormap=io_name, scale_bar=True))

    def shutdown(self) -> bool:
        """Cancel and join every worker thread (window close, test teardown)."""
        return self.pool.shutdown()

    def loaded_scans(self) -> list[Any]:
        """Every scan read so far (for tests and exports)."""
        return [s for e in self.entries for s in e.scans.values()]
