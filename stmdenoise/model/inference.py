"""One network pass over a scan: whole or in tiles, on PyTorch or ONNX Runtime (no Qt, no I/O).

:class:`stmdenoise.denoise.Denoiser` decides what to run and where (device, tile size, retries
after a CUDA out-of-memory error); this module runs it. A scan larger than one tile is denoised in
two passes over overlapping tiles: the first pools every instance norm's statistics over the whole
scan (non-overlapping tiles, each pixel once), the second normalises each tile with them and
blends the tiles with feathered edges, so the result does not depend on where tiles fall
(`tests/test_denoise.py`). An ONNX export is keyed by the network's architecture, weights and the
torch version, and any exporter or runtime failure falls back to PyTorch unless ONNX was asked for.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from stmdenoise.jobs import JobCancelled
from stmdenoise.model.generator import STRIDE, Generator
from stmdenoise.model.onnx_runner import OnnxRunner, onnx_available
from stmdenoise.processing import blend_tiles, iter_tiles

__all__ = ["forward", "onnx_runner_for", "run_tiled"]

log = logging.getLogger(__name__)


def onnx_runner_for(gen: Generator, arch: dict[str, Any], *, required: bool) -> OnnxRunner | None:
    """An ONNX Runtime session for ``gen`` (architecture ``arch``), or None where ONNX Runtime is
    missing or the export fails (then PyTorch runs); ``required``: raise instead of falling back."""
    if not onnx_available():
        return None
    h = hashlib.sha256()
    h.update(repr(arch).encode())
    h.update(torch.__version__.encode())
    for k, v in gen.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().numpy().tobytes())
    try:
        return OnnxRunner(gen, h.hexdigest()[:32])
    except Exception as exc:  # noqa: BLE001 - any exporter/runtime failure: fall back to torch
        if required:
            raise
        log.warning("ONNX export failed (%s); using PyTorch", exc)
        return None


def forward(gen: Generator, block: NDArray[Any], device: torch.device) -> NDArray[np.float32]:
    """``gen`` on one block (rows, cols), float32 out."""
    t = torch.from_numpy(np.ascontiguousarray(block, dtype=np.float32))[None, None].to(device)
    with torch.inference_mode():
        o = gen(t)
    return o[0, 0].float().cpu().numpy()


def run_tiled(
    gen: Generator,
    x: NDArray[np.float64],
    *,
    device: torch.device,
    tile: int,
    overlap: int,
    runner: OnnxRunner | None,
    cancel: threading.Event | None,
    progress: Callable[[int, int], None] | None,
) -> NDArray[np.float32]:
    """``gen`` over ``x``: in one pass (through ``runner`` where given) when it fits one ``tile``,
    else in the two tiled passes of the module docstring (PyTorch). ``cancel`` is checked before
    each pass; ``progress(done, total)`` is called after each."""
    rows, cols = x.shape
    if rows <= tile and cols <= tile:
        if cancel is not None and cancel.is_set():
            raise JobCancelled("denoising cancelled")
        out = runner(x) if runner is not None else forward(gen, x, device)
        if progress is not None:
            progress(1, 1)
        return out
    tiles = list(iter_tiles((rows, cols), tile=tile, overlap=overlap, align=STRIDE))
    # statistics: non-overlapping tiles count every pixel once (and cost fewer passes)
    stat_tiles = list(iter_tiles((rows, cols), tile=tile, overlap=0, align=STRIDE))
    total = len(stat_tiles) + len(tiles)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    # pass 1: pool every instance norm's statistics over all tiles
    with gen.norm_mode("collect"):
        for rs, cs in stat_tiles:
            if cancel is not None and cancel.is_set():
                raise JobCancelled("denoising cancelled")
            forward(gen, x[rs, cs], device)
            tick()
    # pass 2: every tile normalised with the pooled statistics, feathered blend
    results = []
    with gen.norm_mode("fixed"):
        for rs, cs in tiles:
            if cancel is not None and cancel.is_set():
                raise JobCancelled("denoising cancelled")
            results.append(((rs, cs), forward(gen, x[rs, cs], device)))
            tick()
    return blend_tiles((rows, cols), results, overlap=overlap).astype(np.float32)
