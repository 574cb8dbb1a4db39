"""Model folders: ``config.json`` + ``weights.safetensors`` (+ ``MODEL_CARD.md``).

Weights are stored with safetensors only: loading never unpickles anything. ``config.json``
holds the architecture, the variant, the normalisation, the pixel size the model was trained
at, a description of its training data, the step count, metrics and the program version.

A folder may also hold an ``experimental_path`` (format version 2): a different denoiser for
experimental scans, the spectral gain of :mod:`stmdenoise.model.spectral_gain`, in its own
safetensors file. G_D stays the denoiser of simulated images (and fine-tuning's base); G_DA
is kept but not used for experimental scans. A program that reads only version 1 refuses such
a folder instead of silently running G_DA on real scans.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from stmdenoise import __version__
from stmdenoise.io._common import clean_stale_temps, fsync_path, temp_name
from stmdenoise.model.generator import Generator
from stmdenoise.model.pdanet import (
    ArchConfig,
    build_generators,
    check_variant,
    variant_shares_up,
    variant_uses_da,
)
from stmdenoise.model.spectral_gain import GainSpec, GainWeights
from stmdenoise.processing.network import NormalizationSpec  # parses config.json's normalization

__all__ = [
    "ModelFolderError",
    "ModelInfo",
    "NormalizationSpec",
    "save_model_folder",
    "load_gain",
    "load_model_folder",
    "read_model_info",
    "without_machine_paths",
    "generator_state",
    "CONFIG_LIMITS",
    "CONFIG_NAME",
    "WEIGHTS_NAME",
    "FORMAT",
]

#: Ranges a model folder's ``config.json`` must respect, checked before any tensor is built, so a
#: hostile or mistyped config cannot ask for gigabytes (``ngf`` 100000) or endless resampling
#: (``pixel_size_m`` 1e-12). Generous: the shipped model uses ngf 16, 6 blocks, 0.14 nm pixels.
CONFIG_LIMITS: dict[str, tuple[float, float]] = {
    "ngf": (1, 256),
    "n_blocks": (0, 64),
    "ndf": (1, 256),
    "d_layers": (1, 8),
    "fa_width": (1, 4096),
    "channels": (1, 4),
    "skip_blur": (0.0, 16.0),
    "pixel_size_m": (1e-11, 1e-8),
    "low_pct": (0.0, 50.0),
    "high_pct": (50.0, 100.0),
    "scale": (1e-3, 1e3),
    "squash": (0.0, 1e3),
}

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "weights.safetensors"
FORMAT = "stmdenoise-pdanet"
FORMAT_VERSION = 2
#: The version written for a folder without an experimental path (readable by 0.1 programs).
_PLAIN_VERSION = 1


class ModelFolderError(ValueError):
    """A folder is not a readable stmdenoise model (missing, foreign or damaged files)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class ModelInfo:
    """The contents of a model folder's ``config.json``."""

    arch: ArchConfig
    variant: str
    normalization: NormalizationSpec
    pixel_size: float
    steps: int = 0
    training: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    program_version: str = __version__
    weights_dtype: str = "float32"
    name: str = ""
    #: ``(lo, hi)`` metres: scans whose pixel sides both lie in it are denoised on their own grid
    #: (a fully convolutional model trained on several pixel sizes); None: every scan is resampled
    #: to ``pixel_size`` (:func:`stmdenoise.plan.plan_denoise` decides; ``config.json`` key
    #: ``native_pixel_size_range_m``, optional).
    native_pixel_size_range: tuple[float, float] | None = None
    #: The denoiser of experimental scans when it is not G_DA (``config.json`` key
    #: ``experimental_path``, format version 2): the spectral gain's settings.
    experimental_path: GainSpec | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION if self.experimental_path is not None else _PLAIN_VERSION,
            "name": self.name,
            "program_version": self.program_version,
            "variant": self.variant,
            "architecture": self.arch.to_dict(),
            "generators": {
                "g_d": "own",
                "g_da": (
                    "same_as_g_d"
                    if not variant_uses_da(self.variant)
                    else ("shares_up_with_g_d" if variant_shares_up(self.variant) else "own")
                ),
            },
            "normalization": self.normalization.to_dict(),
            "pixel_size_m": self.pixel_size,
            "steps": self.steps,
            "training": dict(self.training),
            "metrics": dict(self.metrics),
            "weights": {"file": WEIGHTS_NAME, "dtype": self.weights_dtype},
        }
        if self.native_pixel_size_range is not None:
            d["native_pixel_size_range_m"] = [float(v) for v in self.native_pixel_size_range]
        if self.experimental_path is not None:
            d["experimental_path"] = self.experimental_path.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: Path) -> ModelInfo:
        if d.get("format") != FORMAT:
            raise ModelFolderError(
                path, f"{CONFIG_NAME} is not a stmdenoise model (format {d.get('format')!r})"
            )
        if int(d.get("format_version", 0)) > FORMAT_VERSION:
            raise ModelFolderError(
                path,
                f"model format {d.get('format_version')} is newer than this program reads ({FORMAT_VERSION})",
            )
        _check_ranges(d, path)
        try:
            return cls(
                arch=ArchConfig.from_dict(dict(d["architecture"])),
                variant=check_variant(d["variant"]),
                normalization=NormalizationSpec.from_dict(d["normalization"]),
                pixel_size=float(d["pixel_size_m"]),
                steps=int(d.get("steps", 0)),
                training=dict(d.get("training", {})),
                metrics=dict(d.get("metrics", {})),
                program_version=str(d.get("program_version", "")),
                weights_dtype=str(d.get("weights", {}).get("dtype", "float32")),
                name=str(d.get("name", "")),
                native_pixel_size_range=_native_range(d.get("native_pixel_size_range_m"), path),
                experimental_path=(
                    None if d.get("experimental_path") is None else GainSpec.from_dict(d["experimental_path"])
                ),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise ModelFolderError(path, f"{CONFIG_NAME} is damaged: {exc!r}") from exc


def _native_range(value: Any, path: Path) -> tuple[float, float] | None:
    """``native_pixel_size_range_m`` checked: absent/None, or ``[lo, hi]`` within the pixel-size limits."""
    if value is None:
        return None
    low, high = CONFIG_LIMITS["pixel_size_m"]
    ok = (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(not isinstance(v, bool) and isinstance(v, (int, float)) and low <= v <= high for v in value)
        and value[0] <= value[1]
    )
    if not ok:
        raise ModelFolderError(
            path,
            f"{CONFIG_NAME}: native_pixel_size_range_m must be [lo, hi] with "
            f"{low:g} <= lo <= hi <= {high:g}, got {value!r}",
        )
    return float(value[0]), float(value[1])


def _check_ranges(d: Mapping[str, Any], path: Path) -> None:
    """Raise ModelFolderError when a size, pixel size or normalisation value is outside CONFIG_LIMITS."""
    arch, norm = d.get("architecture"), d.get("normalization")
    if not isinstance(arch, Mapping) or not isinstance(norm, Mapping):
        raise ModelFolderError(path, f"{CONFIG_NAME} needs 'architecture' and 'normalization' objects")
    values = {
        k: arch.get(k) for k in ("ngf", "n_blocks", "ndf", "d_layers", "fa_width", "channels", "skip_blur")
    }
    values.update({k: norm.get(k) for k in ("low_pct", "high_pct", "scale", "squash")})
    values["pixel_size_m"] = d.get("pixel_size_m")
    for key, value in values.items():
        if value is None and key in ("skip_blur", "squash", "ndf", "d_layers", "fa_width", "channels"):
            continue  # optional (defaults apply)
        low, high = CONFIG_LIMITS[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise ModelFolderError(
                path, f"{CONFIG_NAME}: {key} must be a number in [{low:g}, {high:g}], got {value!r}"
            )
    if not values["low_pct"] < values["high_pct"]:  # type: ignore[operator]
        raise ModelFolderError(path, f"{CONFIG_NAME}: low_pct must be below high_pct, got "
                               f"{values['low_pct']!r}, "
                               f"{values['high_pct']!r}")  # fmt: skip


def generator_state(g_d: Generator, g_da: Generator, variant: str) -> dict[str, torch.Tensor]:
    """Inference weights: ``g_d.*`` and the parts of ``g_da.*`` it does not share with G_D."""
    state = {f"g_d.{k}": v for k, v in g_d.state_dict().items()}
    if variant_uses_da(variant):
        for k, v in g_da.state_dict().items():
            if variant_shares_up(variant) and k.startswith("up."):
                continue
            state[f"g_da.{k}"] = v
    return state


def _atomic_write_bytes(path: Path, write: Any) -> None:
    """``write(tmp)`` then rename; the file gets the usual permissions (0o666 minus the umask)."""
    clean_stale_temps(path.parent, path.name)
    tmp = temp_name(path)
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        write(str(tmp))
        fsync_path(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def without_machine_paths(value: Any) -> Any:
    """``value`` with every absolute path (a string) cut to its last part, at any depth.

    A model folder travels to other computers: ``config.json`` says which data it was trained
    on (file names), not where that data lay on the training machine.
    """
    if isinstance(value, str):
        for flavour in (PurePosixPath, PureWindowsPath):
            if flavour(value).is_absolute():
                return flavour(value).name
        return value
    if isinstance(value, Mapping):
        return {k: without_machine_paths(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_machine_paths(v) for v in value]
    return value


def save_model_folder(
    path: str | Path,
    info: ModelInfo,
    g_d: Generator,
    g_da: Generator,
    *,
    dtype: torch.dtype = torch.float32,
    gain: GainWeights | None = None,
) -> Path:
    """Write ``config.json`` and ``weights.safetensors`` to ``path`` (created if needed).

    Parameters
    ----------
    path : str or Path
        The model folder.
    info : ModelInfo
        Architecture, variant, normalisation, pixel size, training description, metrics.
    g_d, g_da : Generator
        The denoisers for simulated and experimental images (G_DA may be G_D or share its Up block).
    dtype : torch.dtype
        Storage type of the weights (float32, or float16 to halve the size); loading casts
        back to float32.
    gain : GainWeights, optional
        The spectral gain of ``info.experimental_path`` (required exactly when it is set),
        written to its file before ``config.json`` names it.

    Returns
    -------
    Path
        The folder.
    """
    if dtype not in (torch.float32, torch.float16, torch.bfloat16):
        raise ValueError(f"dtype must be float32, float16 or bfloat16, got {dtype}")
    if (gain is None) != (info.experimental_path is None):
        raise ValueError("gain weights are needed exactly when info.experimental_path is set")
    if gain is not None and info.experimental_path is not None:
        if gain.features != info.experimental_path.features:
            raise ValueError("the gain weights and info.experimental_path disagree on their features")
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().to("cpu", dtype).contiguous().clone()
        for k, v in generator_state(g_d, g_da, info.variant).items()
    }
    spec = info.experimental_path
    info = ModelInfo(
        **{
            **info.__dict__,
            "weights_dtype": str(dtype).removeprefix("torch."),
            "training": without_machine_paths(info.training),
            "experimental_path": (
                None if spec is None else replace(spec, training=without_machine_paths(spec.training))
            ),
        }
    )
    metadata = {"format": FORMAT, "variant": info.variant}
    # bytes written into our own file: safetensors' save_file would create it with mode 0600
    blob = save(state, metadata=metadata)
    _atomic_write_bytes(folder / WEIGHTS_NAME, lambda tmp: Path(tmp).write_bytes(blob))
    if gain is not None and info.experimental_path is not None:
        _atomic_write_bytes(folder / info.experimental_path.file, lambda tmp: gain.save(Path(tmp)))
    text = json.dumps(info.to_dict(), indent=2) + "\n"
    _atomic_write_bytes(folder / CONFIG_NAME, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return folder


def read_model_info(path: str | Path) -> ModelInfo:
    """Read and check a model folder's ``config.json`` (raises :class:`ModelFolderError`)."""
    folder = Path(path)
    if not folder.is_dir():
        raise ModelFolderError(folder, "model folder does not exist")
    cfg = folder / CONFIG_NAME
    if not cfg.is_file():
        raise ModelFolderError(folder, f"no {CONFIG_NAME}: not a stmdenoise model folder")
    try:
        d = json.loads(cfg.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFolderError(folder, f"{CONFIG_NAME} is not valid JSON ({exc})") from exc
    if not isinstance(d, dict):
        raise ModelFolderError(folder, f"{CONFIG_NAME} must hold a JSON object")
    return ModelInfo.from_dict(d, path=folder)


def load_model_folder(
    path: str | Path, *, device: torch.device | str = "cpu"
) -> tuple[ModelInfo, Generator, Generator]:
    """Load a model folder: ``(info, G_D, G_DA)`` in eval mode on ``device``, float32.

    Raises
    ------
    ModelFolderError
        When the folder, its config or its weights are missing, foreign or damaged, or a
        tensor's name or shape does not match the architecture in ``config.json``.
    """
    folder = Path(path)
    info = read_model_info(folder)
    wfile = folder / WEIGHTS_NAME
    if not wfile.is_file():
        raise ModelFolderError(folder, f"no {WEIGHTS_NAME}")
    try:
        tensors = load_file(str(wfile), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelFolderError(folder, f"{WEIGHTS_NAME} is damaged or not safetensors ({exc})") from exc
    g_d, g_da = build_generators(info.arch, info.variant)
    expected = generator_state(g_d, g_da, info.variant)
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise ModelFolderError(
            folder,
            f"weights do not match the architecture in {CONFIG_NAME} "
            f"(missing {missing[:3]}{'...' if len(missing) > 3 else ''}, "
            f"unexpected {extra[:3]}{'...' if len(extra) > 3 else ''})",
        )
    for k, ref in expected.items():
        if tuple(tensors[k].shape) != tuple(ref.shape):
            raise ModelFolderError(
                folder,
                f"tensor {k} has shape {tuple(tensors[k].shape)}, the architecture needs {tuple(ref.shape)}",
            )
        if not tensors[k].is_floating_point():
            raise ModelFolderError(folder, f"tensor {k} is not floating point ({tensors[k].dtype})")
        if not torch.isfinite(tensors[k]).all():
            raise ModelFolderError(folder, f"tensor {k} holds NaN or infinite values")
    with torch.no_grad():
        for k, ref in expected.items():
            ref.copy_(tensors[k].to(torch.float32))
    g_d.to(device).eval()
    g_da.to(device).eval()
    return info, g_d, g_da


def load_gain(path: str | Path, info: ModelInfo) -> GainWeights | None:
    """The spectral gain of a folder's ``experimental_path`` (None when it has none).

    Raises :class:`ModelFolderError` when the file is missing, damaged or does not fit the spec.
    """
    spec = info.experimental_path
    if spec is None:
        return None
    folder = Path(path)
    file = folder / spec.file
    if not file.is_file():
        raise ModelFolderError(folder, f"no {spec.file} (the spectral gain named in {CONFIG_NAME})")
    try:
        return GainWeights.load(file, spec.features)
    except ValueError as exc:
        raise ModelFolderError(folder, f"{spec.file} is damaged or does not fit its spec ({exc})") from exc
