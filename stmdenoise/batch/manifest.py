"""When is a scan file finished? The per-file manifest that lets a rerun skip finished work.

Rule
----
Each input file gets a hidden manifest beside its outputs, ``.{stem}.batch.json``, written
atomically in two states:

1. ``pending`` -- written *before* the first output of the file, listing the output names.
   It proves that those names belong to this batch, so a rerun after a kill (power cut,
   SIGKILL) in the middle of writing may replace them; nothing else is ever replaced.
2. ``done`` -- written *after* the last output, with the SHA-256 of the input file, the
   SHA-256 of every output, the options that shaped the outputs (:func:`fingerprint`) and the
   file's report rows.

A rerun skips a file when its manifest is ``done``, the input's SHA-256 and the options are
the same, and every output listed still exists with its recorded SHA-256; the report rows come
from the manifest. Anything else (changed input, other options, an output deleted or edited
by the user) reprocesses the file. An output the user edited is then *not* replaced: it is
reported as a conflict (pass ``overwrite`` to replace it).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from stmdenoise.io._common import atomic_write

__all__ = [
    "write_text",
    "MANIFEST_FORMAT",
    "file_sha256",
    "manifest_path",
    "read_manifest",
    "write_manifest",
    "finished_rows",
    "ours",
]

MANIFEST_FORMAT = "stmdenoise-batch-manifest"
_VERSION = 1


def file_sha256(path: Path, *, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def manifest_path(out_dir: Path, folder: str, stem: str) -> Path:
    """Where the manifest of the input with output ``stem`` in sub-folder ``folder`` lives."""
    return out_dir / folder / f".{stem}.batch.json"


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest at ``path``; None when absent, unreadable or not ours."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        return None
    return data


def write_manifest(
    path: Path,
    *,
    state: str,
    source: Path,
    source_sha256: str,
    options: Mapping[str, Any],
    outputs: Sequence[str],
    out_dir: Path,
    rows: Sequence[Mapping[str, Any]] = (),
) -> None:
    """Write the manifest atomically; ``outputs`` are paths relative to ``out_dir``.

    A ``done`` manifest records each output's SHA-256 (they must exist).
    """
    if state not in ("pending", "done"):
        raise ValueError(f"state must be 'pending' or 'done', got {state!r}")
    files = [
        {"path": rel, "sha256": file_sha256(out_dir / rel) if state == "done" else None} for rel in outputs
    ]
    data = {
        "format": MANIFEST_FORMAT,
        "version": _VERSION,
        "state": state,
        "source": str(source),
        "source_sha256": source_sha256,
        "options": dict(options),
        "outputs": files,
        "rows": [dict(r) for r in rows],
    }
    text = json.dumps(data, indent=1, sort_keys=True, default=str)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, text, inputs=[source])


def write_text(path: Path, text: str, *, inputs: Iterable[Path] = ()) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (never over one of ``inputs``)."""

    def _write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return atomic_write(path, _write, inputs=inputs)


def finished_rows(
    manifest: Mapping[str, Any] | None, *, source_sha256: str, options: Mapping[str, Any], out_dir: Path
) -> list[dict[str, Any]] | None:
    """The report rows of a file finished by an earlier run, or None when it must be (re)done."""
    if manifest is None or manifest.get("state") != "done":
        return None
    if manifest.get("source_sha256") != source_sha256:
        return None
    if json.loads(json.dumps(dict(options), default=str)) != manifest.get("options"):
        return None
    for item in manifest.get("outputs", []):
        target = out_dir / str(item.get("path"))
        try:
            if not target.is_file() or file_sha256(target) != item.get("sha256"):
                return None
        except OSError:
            return None
    rows = manifest.get("rows")
    return [dict(r) for r in rows] if isinstance(rows, list) else None


def ours(manifest: Mapping[str, Any] | None, out_dir: Path) -> list[Path]:
    """Existing outputs an earlier run of this batch wrote and nobody changed since.

    A ``pending`` manifest's outputs (a run killed while writing them) count as ours; a
    ``done`` manifest's only while their SHA-256 is the one recorded.
    """
    if manifest is None:
        return []
    found = []
    for item in manifest.get("outputs", []):
        target = out_dir / str(item.get("path"))
        if not (target.is_file() and not target.is_symlink()):
            continue
        want = item.get("sha256")
        try:
            if manifest.get("state") == "pending" or (want and file_sha256(target) == want):
                found.append(target)
        except OSError:
            continue
    return found


def remove_if_exists(path: Path) -> None:
    """Delete ``path`` when it is there (a manifest made stale by reprocessing)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
