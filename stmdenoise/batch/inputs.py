"""The inputs of a batch: files and folders -> the scan files, their mirrored output folder and stem."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from stmdenoise.batch.report import ScanRow
from stmdenoise.io import READ_SUFFIXES
from stmdenoise.io import select_frames as io_select_frames
from stmdenoise.outputs import expand_inputs, folder_files, plan_stems, safe_name
from stmdenoise.scan import Scan

__all__ = ["BatchInput", "Skip", "collect_inputs", "select_frames", "shown"]


@dataclass(frozen=True)
class BatchInput:
    """One input file: where its outputs go (``folder`` under the output folder, ``stem``)."""

    path: Path
    folder: str  # output sub-folder (posix, "" for the top)
    stem: str = ""
    problem: Exception | None = None


class Skip(ValueError):
    """A file that holds nothing this batch denoises (a spectrum, not the channel asked for)."""


def shown(path: Path) -> str:
    """How a file is named in the report."""
    return str(path)


def _inside(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder)
    except ValueError:
        return False
    return True


def collect_inputs(
    names: Iterable[Path], *, exclude: Path | None = None
) -> tuple[list[BatchInput], list[ScanRow]]:
    """Files to process (with their mirrored output folder and stem), and rows for files that are not scans.

    A folder argument ``F`` maps ``F/a/b/x.sxm`` to output folder ``F/a/b`` (``F``'s own name);
    a file argument to the top of the output folder. Stems are planned per output folder by
    :func:`stmdenoise.outputs.plan_stems` (distinct without case). Non-hidden files in a folder
    whose suffix is not a scan suffix (:data:`stmdenoise.io.READ_SUFFIXES`) are listed as
    skipped, with the reason. Files inside ``exclude`` (the output folder, when it lies inside an
    input folder) are left out: a rerun must not take the batch's own outputs for inputs.
    """
    out = exclude.resolve() if exclude is not None else None
    items: list[BatchInput] = []
    skipped: list[ScanRow] = []
    wanted = tuple(s.lower() for s in READ_SUFFIXES)
    for name in names:
        arg = Path(name)
        files, problems = expand_inputs([arg])
        if arg.is_dir():
            for other in folder_files(arg, exclude=out):
                if not other.name.lower().endswith(wanted):
                    why = f"not a scan file (suffix {other.suffix or 'none'}; scans: {', '.join(wanted)})"
                    skipped.append(ScanRow(file=shown(other), status="skipped", reason=why))
        for found in files:
            if _inside(found, out):
                continue
            if found in problems:
                items.append(BatchInput(found, "", problem=problems[found]))
                continue
            folder = ""
            if arg.is_dir() and found != arg:
                rel = found.parent.relative_to(arg)
                folder = (Path(safe_name(arg.resolve().name)) / rel).as_posix()
            items.append(BatchInput(found, folder))
    seen: set[Path] = set()
    unique = []
    for it in items:
        if it.path not in seen:
            seen.add(it.path)
            unique.append(it)
    groups: dict[str, list[Path]] = {}
    for it in unique:
        groups.setdefault(it.folder.lower(), []).append(it.path)
    stems = {p: s for paths in groups.values() for p, s in plan_stems(paths).items()}
    return [BatchInput(it.path, it.folder, stems[it.path], it.problem) for it in unique], skipped


def select_frames(every: Sequence[Scan], channels: Sequence[str], directions: Sequence[str]) -> list[Scan]:
    """The frames of ``every`` to denoise: the channels asked for (default the first) in ``directions``.

    Each channel is picked by :func:`stmdenoise.io.select_frames` (the one meaning of a channel
    and a direction); a channel the file lacks is passed over when another is there. Raises
    :class:`Skip` when the file holds none of them.
    """
    if not every:
        raise Skip("the file holds no image")
    want = set(directions)
    if not want or not want <= {"forward", "backward"}:
        raise ValueError(f"directions must be among 'forward' and 'backward', got {list(directions)}")
    direction = "both" if len(want) == 2 else next(iter(want))
    picked: list[Scan] = []
    why: list[str] = []
    asked: list[str | None] = list(channels) if channels else [None]
    for channel in asked:
        try:
            picked += io_select_frames(every, channel=channel, direction=direction)
        except ValueError as exc:
            why.append(str(exc))
    if not picked:
        raise Skip("; ".join(why))
    order = {id(s): i for i, s in enumerate(every)}
    return sorted({id(s): s for s in picked}.values(), key=lambda s: order[id(s)])
