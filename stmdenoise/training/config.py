"""The frozen training configuration (saved as JSON in checkpoints and model folders).

A :class:`TrainConfig` is small configs composed: ``arch`` (the networks,
:class:`~stmdenoise.model.ArchConfig`), ``norm`` (the input normalisation,
``NormalizationSpec``), ``sim`` (simulated data), ``losses`` and ``run`` (schedule, optimiser,
experimental scans, output, device), plus the ``variant``. Every setting's help text, range and
default is declared once, in :mod:`stmdenoise.training.options`; the CLI flags and the GUI's
fields are generated from there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from stmdenoise.model.folder import NormalizationSpec
from stmdenoise.model.pdanet import ArchConfig, check_variant, variant_is_paired_only, variant_uses_da
from stmdenoise.training.options import (
    ARCH_OPTIONS,
    GROUPS,
    NORM_OPTIONS,
    VARIANT_OPTION,
    LossConfig,
    RunConfig,
    SimConfig,
    check_group,
    option,
    options,
    supervised_default,
)

__all__ = ["TrainConfig", "ArchConfig", "NormalizationSpec", "SimConfig", "LossConfig", "RunConfig"]

_NESTED = ("arch", "norm", *GROUPS)


def _default_arch() -> ArchConfig:
    return ArchConfig(**{o.name: o.default for o in ARCH_OPTIONS})


def _default_norm() -> NormalizationSpec:
    return NormalizationSpec(**{o.name: o.default for o in NORM_OPTIONS})


def _group_classes() -> dict[str, type]:
    return {"arch": ArchConfig, "norm": NormalizationSpec, **GROUPS}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (Algorithm 1 of the paper, plus data and I/O).

    Parameters
    ----------
    variant : str
        ``cyclegan``, ``cyclegan+da``, ``cyclegan+da+ws``, ``pdanet``, ``supervised`` (PDA-Net
        plus a paired L1 loss) or ``paired`` (G_D alone on simulated pairs with L1: a fast
        pre-training stage for ``run.init``, not a method of the paper).
    arch : ArchConfig
        Network sizes (ngf 32, 6 blocks by default; the paper has 64 and 9).
    norm : NormalizationSpec
        Robust normalisation of every network input (percentiles, tanh squash, plane levelling);
        saved in the model folder, so the Denoiser prepares scans as training did.
    sim : SimConfig
        Simulated data: an HDF5 file or on-the-fly pairs, and how pairs are normalised and cropped.
    losses : LossConfig
        Loss weights. ``losses.lambda_sup`` left None means 10 for ``supervised``/``paired`` and
        0 otherwise (see :attr:`lambda_sup`); a value given (0 included) is kept.
    run : RunConfig
        Steps, crop, batch, Adam, weight averaging, experimental scans, output folder, periods,
        seed, device, precision.

    See :mod:`stmdenoise.training.options` (or ``stmdenoise train --help``) for each field.

    Examples
    --------
    >>> cfg = TrainConfig.from_dict({"variant": "paired", "steps": 10, "blocks": 2})
    >>> cfg.run.steps, cfg.arch.n_blocks, cfg.lambda_sup
    (10, 2, 10.0)
    >>> cfg.replace(lambda_sup=0.5).losses.lambda_sup
    0.5
    """

    variant: str = VARIANT_OPTION.default
    arch: ArchConfig = field(default_factory=_default_arch)
    norm: NormalizationSpec = field(default_factory=_default_norm)
    sim: SimConfig = field(default_factory=SimConfig)
    losses: LossConfig = field(default_factory=LossConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def __post_init__(self) -> None:
        check_variant(self.variant)
        for name, cls in _group_classes().items():
            if not isinstance(getattr(self, name), cls):
                raise ValueError(f"{name} must be a {cls.__name__}, got {getattr(self, name)!r}")
        check_group("arch", self.arch)
        check_group("norm", self.norm)
        norm = self.norm
        if variant_is_paired_only(self.variant) and not self.lambda_sup > 0:
            raise ValueError("variant 'paired' trains with the paired L1 alone: lambda_sup must be > 0")
        for name in ("extreme_crops", "lambda_range", "lambda_ssim"):
            group = self.sim if name == "extreme_crops" else self.losses
            if getattr(group, name) > 0 and self.lambda_sup <= 0:
                raise ValueError(f"{name} needs paired crops: set lambda_sup > 0 (or --variant paired)")
        if self.losses.lambda_teacher > 0 and not self.run.init:
            raise ValueError("lambda_teacher keeps the starting model's answers: pass init (--init FOLDER)")
        if self.losses.lambda_teacher > 0 and self.lambda_sup <= 0:
            raise ValueError("lambda_teacher weighs the paired losses' form: set lambda_sup > 0")
        if self.losses.lambda_anchor > 0 and not variant_uses_da(self.variant):
            raise ValueError(f"lambda_anchor needs a variant with G_DA, not {self.variant!r}")
        if not norm.low_pct < norm.high_pct:
            raise ValueError(
                f"need 0 <= norm_low_pct < norm_high_pct <= 100, got {norm.low_pct}, {norm.high_pct}"
            )
        if variant_uses_da(self.variant) and not self.run.real:
            raise ValueError(
                f"variant {self.variant!r} needs experimental scans: pass real=[files or folders]"
            )
        from stmdenoise.training.real_pairs import check_self_supervised

        check_self_supervised(self)

    @property
    def lambda_sup(self) -> float:
        """The paired L1 weight of this run: ``losses.lambda_sup``, or the variant's default when None.

        The default is resolved here, on use, never stored: a configuration saved without a
        weight keeps following its variant, and a weight the user gave (0 included) is kept.
        """
        given = self.losses.lambda_sup
        return supervised_default(self.variant) if given is None else float(given)

    @classmethod
    def _build(cls, top: dict[str, Any], groups: dict[str, dict[str, Any]]) -> TrainConfig:
        arch = _default_arch()
        norm = _default_norm()
        made: dict[str, Any] = {
            "arch": replace(arch, **groups["arch"]) if groups["arch"] else arch,
            "norm": replace(norm, **groups["norm"]) if groups["norm"] else norm,
        }
        for name, group_cls in GROUPS.items():
            made[name] = group_cls(**groups[name])
        return cls(**top, **made)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied, by flat key (``steps=10``) or whole group (``run=...``)."""
        whole = {k: v for k, v in changes.items() if k in _NESTED or k == "variant"}
        cfg = replace(self, **whole) if whole else self
        flat = {k: v for k, v in changes.items() if k not in whole}
        if not flat:
            return cfg
        groups: dict[str, dict[str, Any]] = {g: {} for g in _NESTED}
        for key, value in flat.items():
            o = option(key)
            groups[o.group][o.name] = value
        return replace(cfg, **{g: replace(getattr(cfg, g), **v) for g, v in groups.items() if v})

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable nested dict: ``variant`` and one object per group."""
        out: dict[str, Any] = {"variant": self.variant}
        for name in _NESTED:
            group = getattr(self, name)
            out[name] = {
                f.name: list(v) if isinstance(v := getattr(group, f.name), tuple) else v
                for f in fields(group)
            }
        return out

    def to_flat(self) -> dict[str, Any]:
        """Every setting by its flat key (the CLI's flag names)."""
        out: dict[str, Any] = {}
        for o in options():
            v = getattr(getattr(self, o.group), o.name) if o.group else getattr(self, o.name)
            out[o.key] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Build from a dict as read from JSON: nested (:meth:`to_dict`) or flat (older versions).

        Flat keys are those of configurations written before the settings were grouped (in
        checkpoints and model folders); both forms may be mixed, a flat key overriding its
        group's value. Unknown keys raise ValueError naming them.
        """
        if not isinstance(d, dict):
            raise ValueError(f"expected a dict of training settings, got {type(d).__name__}")
        groups: dict[str, dict[str, Any]] = {g: {} for g in _NESTED}
        top: dict[str, Any] = {}
        flat: dict[str, Any] = {}
        for key, value in d.items():
            if key in _NESTED and isinstance(value, dict):
                groups[key].update(value)
            else:
                flat[key] = value
        for key, value in flat.items():
            o = option(key)
            (groups[o.group] if o.group else top)[o.name] = value
        for name, values in groups.items():
            known = {f.name for f in fields(_group_classes()[name])}
            unknown = sorted(set(values) - known)
            if unknown:
                raise ValueError(f"unknown {name} settings {unknown}; known: {sorted(known)}")
        return cls._build(top, groups)

    def save(self, path: str | Path) -> None:
        """Write the configuration as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        """Read a configuration written by :meth:`save` (or by hand, or by an older version)."""
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from exc
        if not isinstance(d, dict):
            raise ValueError(f"{path}: expected a JSON object of settings")
        try:
            return cls.from_dict(d)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
