"""The GUI's document model, free of Qt: scan entries, folder expansion, reading jobs, caches."""

from __future__ import annotations

import ast
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stmdenoise.io import ChannelInfo, list_channels, read_scan
from stmdenoise.io.errors import describe_bytes
from stmdenoise.io.formats import READ_SUFFIXES
from stmdenoise.jobs import Progress
from stmdenoise.outputs import folder_files
from stmdenoise.scan import Scan

__all__ = [
    "SCAN_SUFFIXES",
    "ScanEntry",
    "FileRecord",
    "ResultKey",
    "ResultCache",
    "expand_paths",
    "skipped_files",
    "read_files",
    "format_size",
    "format_bias",
    "channel_names",
]

log = logging.getLogger(__name__)

#: Extensions picked up when a folder is dropped or opened (single files are tried whatever their
#: name): the readable formats of :data:`stmdenoise.io.formats.FORMATS`.
SCAN_SUFFIXES: tuple[str, ...] = READ_SUFFIXES


def expand_paths(paths: Iterable[str | Path], *, suffixes: Sequence[str] = SCAN_SUFFIXES) -> list[Path]:
    """Files named in ``paths``, with folders expanded recursively to their scan files.

    Parameters
    ----------
    paths : iterable of str or Path
        Files and folders, e.g. from a drop event or a file dialog.
    suffixes : sequence of str
        Extensions (lower case, with dot) of the files taken from folders.

    Returns
    -------
    list of Path
        Unique files in the given order; files inside a folder sorted by path.
    """
    out: list[Path] = []
    seen: set[Path] = set()
    wanted = {s.lower() for s in suffixes}
    for raw in paths:
        p = Path(raw)
        found = folder_files(p, tuple(wanted)) if p.is_dir() else [p]
        for f in found:
            key = f.resolve() if f.exists() else f.absolute()
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


def skipped_files(paths: Iterable[str | Path], *, suffixes: Sequence[str] = SCAN_SUFFIXES) -> int:
    """How many files inside the folders of ``paths`` :func:`expand_paths` leaves out (other extensions)."""
    wanted = tuple(s.lower() for s in suffixes)
    return sum(
        not f.name.lower().endswith(wanted) for p in map(Path, paths) if p.is_dir() for f in folder_files(p)
    )


def format_size(n_bytes: int | None) -> str:
    """Human file size: ``"812 kB"``."""
    if n_bytes is None:
        return "?"
    size = float(n_bytes)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.3g} {unit}"
        size /= 1000
    return f"{size:.3g} GB"  # pragma: no cover - loop always returns


def format_bias(bias: float | None) -> str:
    """Sample bias in mV below 1 V, else in V: ``"-300 mV"``."""
    if bias is None:
        return "bias ?"
    if abs(bias) < 1:
        return f"{bias * 1e3:+.4g} mV"
    return f"{bias:+.4g} V"


def format_sweep(sweep: Sequence[float], label: str) -> str:
    """Range of a grid's sweep: ``"Bias -1 V … +1 V (256 maps)"``."""
    name, _, unit = label.partition(" (")
    unit = unit.rstrip(")")
    lo, hi = float(sweep[0]), float(sweep[-1])
    if unit == "V":
        return f"{name or 'bias'} {format_bias(lo)} … {format_bias(hi)} ({len(sweep)} maps)"
    return f"{name or 'sweep'} {lo:.4g} … {hi:.4g} {unit} ({len(sweep)} maps)".replace("  ", " ")


def channel_names(channels: Sequence[ChannelInfo]) -> list[str]:
    """Channel names of :func:`stmdenoise.io.list_channels` records."""
    return [c.name for c in channels]


def channel_directions(channels: Sequence[ChannelInfo], name: str) -> list[str]:
    """Directions recorded for channel ``name`` (``["forward"]`` for an unknown name)."""
    for c in channels:
        if c.name == name:
            return list(c.directions)
    return ["forward"]


@dataclass
class ScanEntry:
    """One file in the scan list: what we know about it, or why it cannot be read."""

    path: Path
    size_bytes: int | None = None
    channels: list[ChannelInfo] = field(default_factory=list)
    bias: float | None = None
    error: str | None = None
    loaded: bool = False
    scans: dict[tuple[str, str, int], Scan] = field(default_factory=dict)  # (channel, direction, slice)
    sweep: tuple[float, ...] = ()  # sweep values of a .3ds grid (one map each)
    sweep_label: str = ""  # e.g. "Bias (V)"

    def sweep_values(self, channel: str) -> list[float]:
        """Sweep values of ``channel``'s maps ([] unless it is a grid channel with several maps)."""
        for c in self.channels:
            if c.name == channel:
                return list(self.sweep) if c.points > 1 and len(self.sweep) == c.points else []
        return []

    @property
    def name(self) -> str:
        """File name without folders."""
        return self.path.name

    def summary(self) -> str:
        """Two lines for the list: the name, then size, bias and channel count (or the error)."""
        if self.error is not None:
            return f"{self.name}\n{self.error_reason()}"
        if not self.loaded:
            return f"{self.name}\nreading…"
        n = len(self.channels)
        channels = "1 channel" if n == 1 else f"{n} channels"
        # a grid's maps span its sweep: the range, not the one bias of the header
        bias = format_sweep(self.sweep, self.sweep_label) if len(self.sweep) > 1 else format_bias(self.bias)
        return f"{self.name}\n{format_size(self.size_bytes)} · {bias} · {channels}"

    def error_reason(self) -> str:
        """The error without the path prefix that ScanFormatError adds."""
        if self.error is None:
            return ""
        prefix = f"{self.path}: "
        return self.error[len(prefix) :] if self.error.startswith(prefix) else self.error


@dataclass(frozen=True)
class FileRecord:
    """Progress record of :func:`read_files`: one file read (or failed)."""

    done: int
    total: int
    path: Path
    size_bytes: int | None
    channels: tuple[ChannelInfo, ...] = ()
    scan: Scan | None = None
    error: str | None = None
    sweep: tuple[float, ...] = ()
    sweep_label: str = ""

    @property
    def message(self) -> str:
        return f"{self.path.name}: {self.error}" if self.error else self.path.name


def _error_text(exc: BaseException) -> str:
    text = str(exc)
    return readable(text) if text else type(exc).__name__


_BYTES_REPR = re.compile(r"""b(['"])((?:\\.|(?!\1).)*)\1""")


def readable(text: str) -> str:
    r"""``text`` with Python bytes literals (``b'8\x00S\x00...'``) shown as readable characters.

    Printable ASCII is kept, NUL bytes (UTF-16 text) dropped, other bytes become ``·``;
    a user never needs to read a Python repr.

    Examples
    --------
    >>> readable(r"found b'8\x00S\x00T\x00i\xff'")
    'found "8STi·" (binary)'
    """

    def one(m: re.Match[str]) -> str:
        try:
            raw = ast.literal_eval("b" + m.group(1) + m.group(2) + m.group(1))
        except (ValueError, SyntaxError):
            return m.group(0)
        return str(describe_bytes(raw))

    return _BYTES_REPR.sub(one, text)


def read_first(
    path: Path, channel: str | None = None, direction: str = "forward"
) -> tuple[list[ChannelInfo], Scan]:
    """List the channels of ``path`` and read one of them (the reader's default when None)."""
    channels = list_channels(path)
    scan = read_scan(path, channel=channel, direction=direction)
    return channels, scan


def read_sweep(path: Path, channels: Sequence[ChannelInfo]) -> tuple[tuple[float, ...], str]:
    """Sweep values and label of a ``.3ds`` grid whose channels hold several maps, else ``((), "")``."""
    if not any(c.points > 1 for c in channels):
        return (), ""
    from stmdenoise.io.nanonis_grid import read_grid

    grid = read_grid(path)
    return tuple(float(v) for v in grid.sweep), str(grid.sweep_label)


def read_files(paths: Sequence[Path], cancel: threading.Event) -> Iterator[FileRecord]:
    """Read each file's channel list and default channel; a bad file yields its error and the job goes on.

    Parameters
    ----------
    paths : sequence of Path
        Files to read.
    cancel : threading.Event
        Checked before each file.

    Yields
    ------
    FileRecord
        One per file, in order.
    """
    total = len(paths)
    for i, path in enumerate(paths):
        if cancel.is_set():
            return
        try:
            size = path.stat().st_size
        except OSError:
            size = None
        try:
            channels, scan = read_first(path)
            sweep, label = read_sweep(path, channels)
        except (OSError, ValueError, KeyError, IndexError, ImportError, NotImplementedError) as exc:
            log.info("cannot read %s: %s", path, exc)
            yield FileRecord(i + 1, total, path, size, error=_error_text(exc))
            continue
        yield FileRecord(
            i + 1, total, path, size, channels=tuple(channels), scan=scan, sweep=sweep, sweep_label=label
        )


def read_one(
    path: Path, channel: str, direction: str, index: int = 0
) -> Callable[[threading.Event], Generator[Progress, None, Scan]]:
    """Job factory reading one channel/direction (and grid slice ``index``) of ``path`` (returned)."""

    def job(cancel: threading.Event) -> Generator[Progress, None, Scan]:
        yield Progress(0, 1, f"reading {path.name}")
        scan: Scan = read_scan(path, channel=channel, direction=direction, index=index)
        return scan

    return job


@dataclass(frozen=True)
class ResultKey:
    """What a denoised result depends on."""

    path: str
    channel: str
    direction: str
    model: str
    level: Any  # background of the view (bool or method, with its points)
    align: Any  # line correction of the view (bool or method, with the crop)
    passes: int = 1
    index: int = 0  # slice of a .3ds grid
    policy: str = "fallback"  # stmdenoise.safety.POLICIES


class ResultCache:
    """Least-recently-used cache of denoised scans (by :class:`ResultKey`)."""

    def __init__(self, *, max_items: int = 64) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be >= 1, got {max_items}")
        self._items: OrderedDict[ResultKey, Scan] = OrderedDict()
        self.max_items = max_items

    def get(self, key: ResultKey) -> Scan | None:
        """The cached scan for ``key`` or None."""
        scan = self._items.get(key)
        if scan is not None:
            self._items.move_to_end(key)
        return scan

    def put(self, key: ResultKey, scan: Scan) -> None:
        """Store ``scan`` for ``key``, dropping the oldest entry past ``max_items``."""
        self._items[key] = scan
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items
