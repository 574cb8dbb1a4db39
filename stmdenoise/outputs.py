"""What batch jobs share: folder expansion, the output plan, and a one-line reason for a skipped file.

Used by the ``stmdenoise`` batch commands (:mod:`stmdenoise.cli`) and by the batch job
(:mod:`stmdenoise.batch`) that the app drives; nothing here prints.

Output plan
-----------
Before anything is written, every input of the run gets its output *stem*: the input's file
name without its last suffix (``d/scan.sxm`` -> ``scan``). When two inputs of the run share a
stem (compared without case), each of them gets its extension appended (``a.sxm`` + ``a.dat``
-> ``a_sxm``, ``a_dat``); inputs still sharing one get their folder's name in front
(``d1/img.sxm`` + ``d2/img.sxm`` -> ``d1_img_sxm``, ``d2_img_sxm``); any left after that are
numbered in the order given (``_1``, ``_2``). Before an input's files are written, all of its
output paths are checked at once; it is refused (reported, nothing of it written) when one of
them

* is an input of the run (never overwritten, not even with ``--overwrite``),
* was already written by this run for another input, or
* exists and was not written by this run (unless ``--overwrite`` is given).
"""

from __future__ import annotations

import logging
import os
import re
import traceback
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from stmdenoise.io import READ_SUFFIXES, OverwriteInputError, ScanFormatError
from stmdenoise.io._common import check_regular_file, clean_stale_temps

__all__ = [
    "OutputConflictError",
    "OutputPlan",
    "error_line",
    "expand_inputs",
    "folder_files",
    "failure_log",
    "plan_stems",
    "safe_name",
    "EXPECTED_ERRORS",
    "failure_reason",
    "is_expected",
    "log_traceback",
]

#: Tracebacks of unexpected per-file errors go here (not to the terminal); see :func:`failure_log`.
_FAILURES = logging.getLogger("stmdenoise.failures")


class OutputConflictError(FileExistsError):
    """An output path of a run is taken: by an input, another output of the run, or a user's file."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def failure_log() -> Path:
    """The file that receives the traceback of every unexpected per-file error of a batch."""
    from stmdenoise.paths import user_data_dir

    return user_data_dir() / "stmdenoise-cli.log"


def log_traceback(command: str, path: Path, exc: BaseException) -> Path | None:
    """Append the traceback of ``exc`` (raised for ``path``) to :func:`failure_log`; return that file."""
    target = failure_log()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(f"stmdenoise {command}: {path}\n{text}\n")
    except OSError:
        return None
    _FAILURES.debug("stmdenoise %s: %s", command, path, exc_info=exc)
    return target


#: What a bad input raises (reported in one line, no traceback).
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (ScanFormatError, OverwriteInputError, OSError, ValueError)


def failure_reason(path: Path, exc: BaseException, *, log: Path | None = None) -> str:
    """The reason a file was skipped, in one line, without the file's name.

    ``log`` (where the traceback of an unexpected error went) is named at the end.
    """
    if isinstance(exc, ScanFormatError):
        reason = exc.reason
    elif isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        reason = exc.strerror
    elif isinstance(exc, MemoryError):
        reason = "not enough memory to process this file"
    elif isinstance(exc, EXPECTED_ERRORS):
        reason = str(exc).removeprefix(f"{path}: ")
    else:
        reason = f"unexpected {type(exc).__name__}: {exc}"
    if log is not None:
        reason += f" (traceback in {log})"
    return " ".join(reason.split())  # one line, whatever the message holds


def is_expected(exc: BaseException) -> bool:
    """True for the errors a bad input file causes (no traceback is logged for them)."""
    return isinstance(exc, (*EXPECTED_ERRORS, MemoryError))


def error_line(command: str, path: Path, exc: BaseException, *, log: Path | None = None) -> str:
    """One line naming the file and the reason, for a file a batch command had to skip."""
    return f"stmdenoise {command}: error: {path}: {failure_reason(path, exc, log=log)}"


def folder_files(
    folder: Path, suffixes: Sequence[str] | None = None, *, exclude: Path | None = None
) -> list[Path]:
    """Files under ``folder``, recursively, sorted by path: the one folder walk of the program.

    Hidden files and folders (``.name``, e.g. our temporary files, ``.git``) are skipped and
    symbolic links to folders are not followed (no loops); with ``suffixes`` only files whose
    name ends (case-insensitively) with one of them; the folder ``exclude`` (a batch's output
    folder inside its input folder) is not entered.
    """
    wanted = None if suffixes is None else tuple(s.lower() for s in suffixes)
    skip = None if exclude is None else exclude.resolve()
    found: list[Path] = []
    for root, dirs, fnames in os.walk(folder, followlinks=False, onerror=None):
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and (skip is None or (Path(root) / d).resolve() != skip)
        )
        for f in fnames:
            if not f.startswith(".") and (wanted is None or f.lower().endswith(wanted)):
                found.append(Path(root) / f)
    return sorted(found)


def expand_inputs(
    names: Iterable[str | os.PathLike[str]], *, suffixes: Sequence[str] = READ_SUFFIXES
) -> tuple[list[Path], dict[Path, Exception]]:
    """Command-line arguments -> the files to process, and the arguments that are not usable.

    A folder is searched recursively for files whose suffix (lower case) is one of
    ``suffixes``, sorted by path; hidden files and folders (``.name``, e.g. our temporary
    files) are skipped and symbolic links to folders are not followed (no loops). Any other
    argument is kept as given when it is a regular file; a missing path, a FIFO, a device or
    a symbolic-link loop becomes a problem with a precise message.

    Returns
    -------
    files : list of Path
        In argument order, each once; unusable arguments stay in their place.
    problems : dict of Path to Exception
        The unusable arguments, with the reason (report them where they come in ``files``).
    """
    files: list[Path] = []
    problems: dict[Path, Exception] = {}
    wanted = tuple(s.lower() for s in suffixes)
    for name in names:
        path = Path(name)
        if path.is_dir():
            found = folder_files(path, wanted)
            if not found:
                problems[path] = FileNotFoundError(
                    f"{path}: folder holds no scan files ({', '.join(wanted)})"
                )
                files.append(path)
            files.extend(found)
            continue
        try:
            check_regular_file(path)
        except OSError as exc:
            problems[path] = exc
        files.append(path)
    unique = list(dict.fromkeys(files))
    return unique, problems


def safe_name(name: str) -> str:
    """``name`` with every run of characters other than letters, digits, ``.``, ``_``, ``-`` as ``_``.

    Examples
    --------
    >>> safe_name("LI Demod 1 X")
    'LI_Demod_1_X'
    """
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "image"


def plan_stems(inputs: Sequence[Path]) -> dict[Path, str]:
    """Output stem of each input, distinct without case (the rules are in the module doc).

    Examples
    --------
    >>> from pathlib import Path
    >>> plan_stems([Path("d1/img.sxm"), Path("d2/img.sxm"), Path("a.sxm"), Path("a.dat"), Path("b.sxm")])
    ... # doctest: +NORMALIZE_WHITESPACE
    {PosixPath('d1/img.sxm'): 'd1_img_sxm', PosixPath('d2/img.sxm'): 'd2_img_sxm',
     PosixPath('a.sxm'): 'a_sxm', PosixPath('a.dat'): 'a_dat', PosixPath('b.sxm'): 'b'}
    """
    stems = {p: p.stem for p in inputs}

    def clashing() -> set[Path]:
        seen: dict[str, list[Path]] = {}
        for p, s in stems.items():
            seen.setdefault(s.lower(), []).append(p)
        return {p for group in seen.values() if len(group) > 1 for p in group}

    for tag in (
        lambda p: f"{p.stem}_{p.suffix.lstrip('.').lower()}" if p.suffix else p.stem,
        lambda p: f"{p.resolve().parent.name or 'root'}_{stems[p]}",
    ):
        for p in clashing():
            stems[p] = tag(p)
    groups: dict[str, list[Path]] = {}
    for p in inputs:
        groups.setdefault(stems[p].lower(), []).append(p)
    for group in groups.values():
        if len(group) > 1:
            for k, p in enumerate(group, start=1):
                stems[p] = f"{stems[p]}_{k}"
    return stems


class OutputPlan:
    """The output paths of one batch run: checked before anything is written.

    Parameters
    ----------
    out_dir : Path
        The output folder (created when missing).
    inputs : sequence of Path
        Every input of the run (after folder expansion).
    overwrite : bool
        Replace existing files the run did not write (never an input).
    """

    def __init__(self, out_dir: Path, inputs: Sequence[Path], *, overwrite: bool = False) -> None:
        self.out_dir = Path(out_dir)
        self.inputs = list(inputs)
        self.overwrite = overwrite
        self.stems = plan_stems(self.inputs)
        self._inputs = {self._key(p) for p in self.inputs}
        self._claimed: dict[str, Path] = {}
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise NotADirectoryError(f"{self.out_dir}: output is not a folder")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(self.out_dir)  # leftovers of a killed earlier run

    @staticmethod
    def _key(path: Path) -> str:
        return os.path.normcase(str(Path(path).resolve()))

    def stem(self, source: Path) -> str:
        """The planned output stem of ``source`` (its own stem for a file outside the plan)."""
        return self.stems.get(source, source.stem)

    def claim(self, source: Path, names: Sequence[str], *, replace: Collection[Path] = ()) -> list[Path]:
        """Reserve ``out_dir / name`` for each name, all or none.

        ``names`` may hold sub-folders (``"sub/scan.png"``); ``replace`` lists existing files the
        caller knows it wrote itself (a batch's own earlier outputs), which may be replaced
        like files of this run.

        Raises
        ------
        OverwriteInputError
            A path is an input of the run.
        OutputConflictError
            A path is claimed by another input of the run, appears twice in ``names``, or
            exists and ``overwrite`` is False.
        """
        paths = [self.out_dir / n for n in names]
        keys = [self._key(p) for p in paths]
        ours = {self._key(p) for p in replace}
        for p, k in zip(paths, keys, strict=True):
            if k in self._inputs or any(_same(p, i) for i in self.inputs):
                raise OverwriteInputError(p)
            if keys.count(k) > 1:
                raise OutputConflictError(p, "two outputs of this file would have this name")
            owner = self._claimed.get(k)
            if owner is not None and owner != source:
                raise OutputConflictError(p, f"already written by this run for {owner}")
            if owner is None and not self.overwrite and k not in ours and (p.exists() or p.is_symlink()):
                raise OutputConflictError(
                    p, "exists and was not written by this run; pass --overwrite to replace it"
                )
        for k in keys:
            self._claimed[k] = source
        return paths


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False
