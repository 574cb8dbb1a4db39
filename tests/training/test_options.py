"""Every training setting is declared once: the CLI flags and the checks come from that declaration."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stmdenoise.cli.main import build_parser
from stmdenoise.training import TrainConfig
from stmdenoise.training.options import options

#: the flags of `stmdenoise train` before they were generated: scripts that use them keep working
LEGACY_FLAGS = (
    "--variant --steps --crop --batch --ngf --blocks --ndf --sim --on-the-fly --sim-preset --sim-pixels "
    "--sim-size-nm --sim-pool --real --real-nm-per-px --out --resume --device --seed --lr --gan-mode "
    "--lambda-cyc --lambda-fa --lambda-sup --lambda-cyc-exp --lambda-anchor --lambda-range --lambda-ssim "
    "--extreme-crops --ema --checkpoint-every --norm-squash --sup-space --init --residual --skip-blur "
    "--pair-norm --weights-dtype --threads --quiet --config --save-config"
).split()

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "cu111-default" / "config.json"


def _train_parser():  # type: ignore[no-untyped-def]
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sub.choices["train"]


def test_every_setting_has_a_flag_and_the_old_flags_remain() -> None:
    flags = {s for a in _train_parser()._actions for s in a.option_strings}
    assert {o.flag for o in options()} <= flags
    assert set(LEGACY_FLAGS) <= flags
    keys = [o.key for o in options()]
    assert len(keys) == len(set(keys))  # one flat key, one flag per setting


def test_flags_reach_the_config_in_their_units() -> None:
    from stmdenoise.cli.train import config_from_args

    args = _train_parser().parse_args(
        ["--variant", "supervised", "--real", "a", "b", "--sim-size-nm", "20", "--blocks", "3",
         "--lambda-sup", "0", "--no-level", "--residual"]
    )  # fmt: skip
    cfg = config_from_args(args)
    assert cfg.sim.size == pytest.approx(20e-9) and cfg.arch.n_blocks == 3 and cfg.run.real == ("a", "b")
    assert cfg.lambda_sup == 0.0 and cfg.norm.level is False and cfg.arch.residual is True
    assert cfg.run.steps == 20000  # a flag left out keeps the declared default


def test_bad_values_name_the_setting_and_its_range() -> None:
    with pytest.raises(ValueError, match=r"run\.crop must be >= 16, a multiple of 4, got 30"):
        TrainConfig.from_dict({"variant": "paired", "crop": 30})
    with pytest.raises(ValueError, match=r"losses\.lambda_cyc must be a finite number \(>= 0\)"):
        TrainConfig.from_dict({"variant": "paired", "lambda_cyc": float("nan")})
    with pytest.raises(ValueError, match="unknown training setting 'stepz'"):
        TrainConfig.from_dict({"variant": "paired", "stepz": 3})
    with pytest.raises(ValueError, match=r"unknown run settings \['stepz'\]"):
        TrainConfig.from_dict({"variant": "paired", "run": {"stepz": 3}})


def test_the_shipped_models_flat_config_still_loads() -> None:
    if not SHIPPED.is_file():
        pytest.skip(f"no shipped model at {SHIPPED}")
    flat = json.loads(SHIPPED.read_text(encoding="utf-8"))["training"]["config"]
    cfg = TrainConfig.from_dict(flat)
    assert cfg.variant == flat["variant"] and cfg.arch.n_blocks == flat["blocks"]
    assert cfg.norm.squash == flat["norm_squash"] and cfg.lambda_sup == flat["lambda_sup"]
    out = cfg.to_flat()
    assert {k: out[k] for k in flat} == {**flat, "real": list(flat["real"])}  # nothing lost or renamed
    # settings declared after this model was trained come in at their defaults
    later = {"lambda_n2n", "lambda_stack", "lambda_blindspot", "blindspot_fraction", "ss_loss"}
    later |= {"real_pairs", "real_stack", "sim_world", "teacher_world", "lambda_teacher"}
    assert set(out) - set(flat) == later
    assert cfg.losses.lambda_n2n == 0.0 and cfg.run.real_pairs == ()
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_the_settings_module_imports_without_torch() -> None:
    code = "import sys, stmdenoise.training.options, stmdenoise.cli.train; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
