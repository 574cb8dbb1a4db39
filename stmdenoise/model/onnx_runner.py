"""ONNX Runtime for a generator's single-pass CPU inference (exported once per weights, cached).

Used by :class:`stmdenoise.denoise.Denoiser`, where it measured 1.4-1.9x faster than eager
PyTorch (``bench/bench_model.py``). Tiled passes need the pooled-statistics norm modes and stay
in PyTorch.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from stmdenoise.model.generator import STRIDE, Generator
from stmdenoise.paths import user_data_dir

__all__ = ["OnnxRunner", "onnx_available"]


class _Bare(torch.nn.Module):
    """The generator without its shape-dependent pad/crop (traced graphs would freeze the sizes)."""

    def __init__(self, gen: Generator) -> None:
        super().__init__()
        self.gen = gen

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gen.decode(self.gen.res(self.gen.down(x)), x)


class OnnxRunner:
    """ONNX Runtime session for one generator (exported once, cached under the user data folder).

    Used for single-pass inference on the CPU, where it measured 1.4-1.9x faster than eager
    PyTorch (bench/bench_model.py). Tiled passes need the pooled-statistics norm modes and
    stay in PyTorch. Inputs are padded here to a multiple of 4 (>= 8 px), so the exported graph
    never needs the generator's data-dependent padding.
    """

    def __init__(self, gen: Generator, key: str) -> None:
        import onnxruntime as ort

        cache = user_data_dir() / "onnx-cache"
        path = cache / f"{key}.onnx"
        if not path.is_file():
            cache.mkdir(parents=True, exist_ok=True)
            buf = io.BytesIO()
            example = (torch.zeros(1, gen.channels, 64, 64, device=next(gen.parameters()).device),)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    _Bare(gen), example, buf,  # type: ignore[arg-type]  # a file object is accepted
                    dynamo=False, opset_version=17, input_names=["x"], output_names=["y"],
                    dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}, "y": {0: "n", 2: "h", 3: "w"}},
                )  # fmt: skip
            from stmdenoise.io._common import temp_name

            tmp = temp_name(path)  # unique per process: two exporting the same model never share one
            try:
                tmp.write_bytes(buf.getvalue())
                tmp.replace(path)
            finally:
                tmp.unlink(missing_ok=True)
        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def __call__(self, block: NDArray[Any]) -> NDArray[np.float32]:
        h, w = block.shape
        ph = max(h + (-h) % STRIDE, 2 * STRIDE) - h
        pw = max(w + (-w) % STRIDE, 2 * STRIDE) - w
        x = np.asarray(block, dtype=np.float32)
        if ph or pw:
            x = np.pad(x, ((0, ph), (0, pw)), mode="reflect" if (ph < h and pw < w) else "edge")
        y = self.session.run(None, {"x": x[None, None]})[0]
        return np.asarray(y[0, 0, :h, :w], dtype=np.float32)


def onnx_available() -> bool:
    try:
        import onnx  # noqa: F401  (the exporter needs it)
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True
