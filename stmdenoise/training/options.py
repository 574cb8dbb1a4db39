"""Every training setting declared once, with its metadata; torch-free.

A setting is a field of one of the groups of :class:`~stmdenoise.training.TrainConfig`
(``arch``, ``norm``, ``sim``, ``losses``, ``run``, plus the top-level ``variant``). Its
metadata (help text, range or choices, default, its flat key) is declared with the field by
:func:`opt`; the fields of the two groups whose classes live elsewhere (``arch`` is
:class:`~stmdenoise.model.ArchConfig`, ``norm`` the ``NormalizationSpec``) are described in
:data:`ARCH_OPTIONS` and :data:`NORM_OPTIONS`. From these alone come

* the ``stmdenoise train`` flags (``--KEY``, the key's underscores as dashes),
* the fields of the GUI's training panel (:attr:`Option.gui`),
* the flat JSON keys of configurations written by earlier versions (``blocks``, ``sim_pixels``,
  ``norm_squash`` ...), which :meth:`TrainConfig.from_dict` still reads,
* and the checks of each value (:func:`check_group`).

Adding a setting, e.g. a loss weight, is one line in :class:`LossConfig`::

    lambda_tv: float = opt(0.0, "weight of a total-variation term (0 = off)", low=0.0)

This module imports neither torch nor the model, so the CLI builds its parser and the GUI its
form without paying for them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from stmdenoise.variants import VARIANTS

__all__ = [
    "Option",
    "opt",
    "SimConfig",
    "LossConfig",
    "RunConfig",
    "ARCH_OPTIONS",
    "NORM_OPTIONS",
    "VARIANT_OPTION",
    "GROUPS",
    "options",
    "option",
    "check_group",
    "supervised_default",
]

_META = "stmdenoise.option"


@dataclass(frozen=True)
class Option:
    """Metadata of one setting.

    Attributes
    ----------
    group, name : str
        Where the value lives: ``getattr(getattr(config, group), name)`` (``group`` "" for
        ``variant``).
    key : str
        Flat name: the ``--flag`` (underscores as dashes) and the key of flat JSON configs.
    default : object
        Value when the user gives none (None for a default that depends on the variant).
    help : str
        One line for ``--help`` and the GUI's tooltip.
    type : type
        ``int``, ``float``, ``bool``, ``str``, or ``tuple`` (a list of paths).
    choices : tuple or None
        Allowed values.
    low, high : float or None
        Allowed range; ``low_open``/``high_open`` exclude the bound itself.
    optional : bool
        None is allowed.
    multiple_of : int or None
        The value must be a multiple of it (crop sides).
    flag_scale : float or None
        The CLI flag is in other units: ``--KEY-FLAG_UNIT`` times ``flag_scale`` gives the value.
    flag_unit : str
        Suffix of that flag (``nm``: ``--sim-size-nm``).
    gui : bool
        Shown in the GUI's training panel.
    label : str
        Label in the GUI (default: from the key).
    """

    group: str
    name: str
    key: str
    default: Any
    help: str
    type: type
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    optional: bool = False
    multiple_of: int | None = None
    flag_scale: float | None = None
    flag_unit: str = ""
    gui: bool = False
    label: str = ""

    @property
    def flag(self) -> str:
        """The ``stmdenoise train`` flag."""
        unit = f"_{self.flag_unit}" if self.flag_unit else ""
        return "--" + (self.key + unit).replace("_", "-")

    @property
    def title(self) -> str:
        """Label of the GUI field."""
        return self.label or self.key.replace("_", " ").capitalize()

    def range_text(self) -> str:
        """The allowed values in words (for help texts and errors)."""
        if self.choices is not None:
            return "one of " + ", ".join(map(str, self.choices))
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        text = " and ".join(parts)
        if self.multiple_of:
            text += f"{', ' if text else ''}a multiple of {self.multiple_of}"
        return text

    def check(self, value: Any) -> Any:
        """``value`` converted to the setting's type, or ValueError naming the setting."""
        where = f"{self.group}.{self.name}" if self.group else self.name
        if value is None:
            if self.optional or self.default is None:
                return None
            raise ValueError(f"{where} must be set, got None")
        if self.type is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{where} must be true or false, got {value!r}")
            return value
        if self.type is tuple:
            if isinstance(value, str) or not isinstance(value, (list, tuple)):
                raise ValueError(f"{where} must be a list of paths, got {value!r}")
            return tuple(str(v) for v in value)
        if self.type is str:
            if not isinstance(value, str):
                raise ValueError(f"{where} must be a string, got {value!r}")
        elif self.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{where} must be an integer ({self.range_text()}), got {value!r}")
        elif self.type is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{where} must be a finite number ({self.range_text()}), got {value!r}")
            value = float(value)
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{where} must be {self.range_text()}, got {value!r}")
        bad = (
            (self.low is not None and (value <= self.low if self.low_open else value < self.low))
            or (self.high is not None and (value >= self.high if self.high_open else value > self.high))
            or (self.multiple_of is not None and value % self.multiple_of)
        )
        if bad:
            raise ValueError(f"{where} must be {self.range_text()}, got {value!r}")
        return value


def opt(default: Any, help: str, **meta: Any) -> Any:  # noqa: A002 -- the argparse word
    """A dataclass field with its :class:`Option` metadata (``key``, ``low``, ``choices`` ...).

    The group, name and type are filled in from the class by :func:`options`.
    """
    meta = {"default": default, "help": help, **meta}
    if isinstance(default, (list, tuple)):
        return field(default=tuple(default), metadata={_META: meta})
    return field(default=default, metadata={_META: meta})


_TYPES = {"int": int, "float": float, "bool": bool, "str": str}


def _type_of(annotation: str) -> tuple[type, bool]:
    """The value type and whether None is allowed, from a field's (string) annotation."""
    parts = [p.strip() for p in annotation.split("|")]
    optional = "None" in parts
    base = next(p for p in parts if p != "None")
    return (tuple if base.startswith("tuple") else _TYPES[base]), optional


def _check_self(obj: Any) -> None:
    """Check and normalise every field of a group dataclass (its ``__post_init__``)."""
    for o in _group_options(type(obj), _group_name(type(obj))):
        object.__setattr__(obj, o.name, o.check(getattr(obj, o.name)))


#: The on-the-fly simulated worlds ``--sim-world`` offers, in one place (the training loop maps
#: each to its sampler in this order).
SIM_WORLDS = ("paper", "broad", "biases")


@dataclass(frozen=True)
class SimConfig:
    """Simulated training data: an HDF5 dataset, or pairs simulated on the fly."""

    dataset: str | None = opt(
        None, "HDF5 of simulated pairs from `stmdenoise simulate` (default: simulate on the fly)", key="sim"
    )
    pixels: int = opt(256, "pixels per simulated image (on the fly)", key="sim_pixels", low=1)
    size: float = opt(
        36e-9,
        "field of view of simulated images (on the fly)",
        key="sim_size",
        low=0.0,
        low_open=True,
        flag_scale=1e-9,
        flag_unit="nm",
    )
    preset: str = opt("typical", "artefact preset for on-the-fly simulation", key="sim_preset")
    world: str = opt(
        "paper",
        "on-the-fly scenes: the paper's Cu(111) scenes (biases 5-30 mV); the broader world of "
        "stmdenoise.physics.variety (lattice as signal, other wavelengths, noise 0.25-3x, stronger tips); "
        "or the paper's scenes at biases from 5 mV to 1 V (biases)",
        key="sim_world",
        choices=SIM_WORLDS,
    )
    teacher_world: str = opt(
        "paper",
        "on-the-fly scenes of the --lambda-teacher term (where the starting denoiser's answers are kept)",
        choices=SIM_WORLDS,
    )
    pool: int = opt(64, "simulated pairs kept in memory on the fly", key="sim_pool", low=1)
    refresh: int = opt(1, "simulated pairs replaced per step (on the fly)", key="sim_refresh", low=0)
    pair_norm: str = opt(
        "own",
        "normalise a simulated clean image by its own percentiles or by its noisy twin's",
        choices=("own", "noisy"),
    )
    extreme_crops: float = opt(
        0.0,
        "fraction of paired crops placed around the clean image's highest or lowest pixel",
        low=0.0,
        high=1.0,
    )

    def __post_init__(self) -> None:
        _check_self(self)


@dataclass(frozen=True)
class LossConfig:
    """Loss weights and forms (1, 1, 1, 1, 0.1 as the paper; the rest off by default)."""

    gan_mode: str = opt("log", "adversarial loss: log (the paper) or least squares", choices=("log", "lsgan"))
    lambda_d: float = opt(1.0, "adversarial weight of D_D", low=0.0)
    lambda_b: float = opt(1.0, "adversarial weight of D_B", low=0.0)
    lambda_cyc: float = opt(1.0, "cycle-loss weight (paper 1)", low=0.0)
    lambda_da: float = opt(1.0, "adversarial weight of D_DA", low=0.0)
    lambda_fa: float = opt(0.1, "feature-alignment weight (paper 0.1)", low=0.0)
    lambda_sup: float | None = opt(
        None,
        "paired L1 weight G_D(I_BS) ~ I_S (default 10 for the supervised and paired variants, else 0); "
        "> 0 draws aligned pairs",
        low=0.0,
    )
    sup_space: str = opt(
        "squashed",
        "paired L1 in the networks' tanh range or in normalised data units",
        choices=("squashed", "data"),
    )
    lambda_range: float = opt(
        0.0, "weight of the min-max-scaled MSE of G_D(I_BS) vs I_S (needs paired crops)", low=0.0
    )
    lambda_ssim: float = opt(
        0.0, "weight of 1 - SSIM of G_D(I_BS) vs I_S on the clean crop's scale (needs paired crops)", low=0.0
    )
    lambda_cyc_exp: float = opt(0.0, "experimental cycle G_B(G_DA(I_E)) ~ I_E weight", low=0.0)
    lambda_anchor: float = opt(
        0.0, "weight of G_DA(I_E) ~ G_D(I_E): G_DA stays near the simulation-trained denoiser", low=0.0
    )
    lambda_teacher: float = opt(
        0.0,
        "weight of G_D(I_BS) ~ the --init model's G_D(I_BS) on noisy pairs of --teacher-world, with the "
        "paired losses' form and weights (ours, not the paper's: a fine-tune keeps what the starting "
        "denoiser did on the scenes it was trained for; needs --init and lambda_sup > 0)",
        low=0.0,
    )
    # self-supervised terms on real scans (ours, not the paper's): stmdenoise.training.self_supervised
    lambda_n2n: float = opt(
        0.0, "Noise2Noise weight: G(forward) vs the aligned backward frame of --real-pairs, and back", low=0.0
    )
    lambda_stack: float = opt(0.0, "Noise2Noise weight between consecutive frames of --real-stack", low=0.0)
    lambda_blindspot: float = opt(
        0.0, "blind-spot (Noise2Void) weight on single real frames (of --real-pairs and --real)", low=0.0
    )
    blindspot_fraction: float = opt(0.02, "share of pixels the blind-spot term masks", low=0.0, high=0.5)
    ss_loss: str = opt("l1", "distance of the self-supervised terms", choices=("l1", "l2"))

    def __post_init__(self) -> None:
        _check_self(self)


@dataclass(frozen=True)
class RunConfig:
    """Schedule, optimiser, experimental scans, output and device of a run."""

    steps: int = opt(20000, "iterations, one batch each", low=1, gui=True)
    crop: int = opt(128, "training crop side in pixels", low=16, multiple_of=4, gui=True)
    batch: int = opt(4, "images per domain per step", low=1, gui=True)
    lr: float = opt(2e-4, "Adam learning rate", low=0.0, low_open=True)
    beta1: float = opt(0.5, "Adam beta1", low=0.0, high=1.0, high_open=True)
    beta2: float = opt(0.999, "Adam beta2", low=0.0, high=1.0, high_open=True)
    ema: float = opt(
        0.0,
        "save a moving average of the denoisers' weights, e.g. 0.995 (0 = the last weights)",
        low=0.0,
        high=1.0,
        high_open=True,
    )
    init: str | None = opt(
        None, "start the generators from this model folder (fine-tuning; PDA-Net after --variant paired)"
    )
    real: tuple[str, ...] = opt((), "experimental scans (files or folders)")
    real_pairs: tuple[str, ...] = opt(
        (), "real scans with forward and backward frames, for --lambda-n2n (never the Ko test frames)"
    )
    real_stack: tuple[str, ...] = opt((), "repeated frames of one area, for --lambda-stack")
    real_nm_per_px: float | None = opt(
        None, "pixel size of plain images (JPEG/PNG) in nm", low=0.0, low_open=True
    )
    out: str = opt("model", "model folder to write (checkpoints in OUT/checkpoint)")
    checkpoint_every: int = opt(500, "checkpoint period in steps (0 = only at the end)", low=0)
    preview_every: int = opt(100, "preview period in steps (0 = none)", low=0)
    log_every: int = opt(10, "loss logging period in steps", low=1)
    seed: int = opt(0, "seed of every random choice", low=0, gui=True)
    device: str = opt(
        "auto", "auto (CUDA > MPS > CPU), cpu, cuda or mps", choices=("auto", "cpu", "cuda", "mps")
    )
    amp: bool = opt(True, "bfloat16 autocast on CUDA")
    weights_dtype: str = opt(
        "float32", "storage type of the model folder's weights", choices=("float32", "float16")
    )

    def __post_init__(self) -> None:
        _check_self(self)


def _external(group: str, specs: Mapping[str, Mapping[str, Any]]) -> tuple[Option, ...]:
    return tuple(
        Option(group=group, name=name, **{"key": name, **{k: v for k, v in meta.items()}})
        for name, meta in specs.items()
    )


#: The ``arch`` fields a run sets (ArchConfig's others keep their defaults); defaults of a run.
ARCH_OPTIONS: tuple[Option, ...] = _external(
    "arch",
    {
        "ngf": dict(default=32, help="generator width (paper 64)", type=int, low=1),
        "n_blocks": dict(key="blocks", default=6, help="ResNet blocks (paper 9)", type=int, low=0),
        "ndf": dict(default=64, help="PatchGAN width", type=int, low=1),
        "fa_width": dict(default=64, help="hidden width of the feature discriminator", type=int, low=1),
        "residual": dict(
            default=False, help="generators learn a correction to their input (global skip)", type=bool
        ),
        "skip_blur": dict(
            default=0.0, help="Gaussian sigma (px) on the denoisers' residual skip (needs --residual)",
            type=float, low=0.0,
        ),
    },
)  # fmt: skip

#: The ``norm`` fields (the robust normalisation of every network input).
NORM_OPTIONS: tuple[Option, ...] = _external(
    "norm",
    {
        "low_pct": dict(key="norm_low_pct", default=0.5, help="percentile mapped to -1", type=float,
                        low=0.0, high=100.0),
        "high_pct": dict(key="norm_high_pct", default=99.5, help="percentile mapped to +1", type=float,
                         low=0.0, high=100.0),
        "scale": dict(key="norm_scale", default=0.8, help="factor of the linear map (norm_squash 0)",
                      type=float, low=0.0, low_open=True, high=1.0),
        "level": dict(default=True, help="subtract a least-squares plane before normalising", type=bool),
        "squash": dict(key="norm_squash", default=0.8, type=float, low=0.0, high=10.0,
                       help="tanh compression of normalised images (0 = linear)"),
    },
)  # fmt: skip

#: The top-level setting: which method trains.
VARIANT_OPTION = Option(
    group="",
    name="variant",
    key="variant",
    default="pdanet",
    help="ablation variant",
    type=str,
    choices=VARIANTS,
    gui=True,
)

#: Group name -> the class of the groups declared here.
GROUPS: dict[str, type] = {"sim": SimConfig, "losses": LossConfig, "run": RunConfig}


def _group_name(cls: type) -> str:
    return next(name for name, c in GROUPS.items() if c is cls)


def _group_options(cls: type, group: str) -> Iterator[Option]:
    for f in dataclasses.fields(cls):
        meta = dict(f.metadata[_META])
        typ, optional = _type_of(str(f.type))
        yield Option(group=group, name=f.name, **{"key": f.name, "type": typ, "optional": optional, **meta})


def options() -> tuple[Option, ...]:
    """Every setting, in order: variant, arch, norm, sim, losses, run."""
    out = [VARIANT_OPTION, *ARCH_OPTIONS, *NORM_OPTIONS]
    for group, cls in GROUPS.items():
        out.extend(_group_options(cls, group))
    return tuple(out)


def option(key: str) -> Option:
    """The setting whose flat key is ``key`` (ValueError naming the known keys otherwise)."""
    for o in options():
        if o.key == key:
            return o
    raise ValueError(f"unknown training setting {key!r}; known: {sorted(o.key for o in options())}")


def check_group(group: str, obj: Any) -> None:
    """Check the fields of a group described by metadata here (``arch`` or ``norm``)."""
    table = {"arch": ARCH_OPTIONS, "norm": NORM_OPTIONS}[group]
    for o in table:
        o.check(getattr(obj, o.name))


def supervised_default(variant: str) -> float:
    """The paired L1 weight when the user gave none: 10 for ``supervised`` and ``paired``, else 0."""
    return 10.0 if variant in ("supervised", "paired") else 0.0
