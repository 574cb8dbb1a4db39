"""A model folder whose G_D is two folders' G_D averaged weight by weight (WiSE-FT).

    python bench/weight_average.py BASE TUNED --alpha 0.5 --out DIR

Every tensor of G_D becomes ``(1 - alpha) * BASE + alpha * TUNED`` (Wortsman et al., "Robust
fine-tuning of zero-shot models", CVPR 2022: a model and its fine-tuned copy lie in one basin, and
their average often keeps most of what each does well). ``TUNED`` must be a fine-tune of ``BASE``
(same architecture). Everything else comes from ``BASE``: its configuration, its G_DA blocks that
G_D does not share (a paired fine-tune does not train them), its spectral gain; the training
record says what was averaged. Candidate GW of docs/model-selection.md. Writes a new folder and
refuses an existing one (nothing is overwritten).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stmdenoise.model.folder import load_gain, load_model_folder, save_model_folder  # noqa: E402


def average(base: Path, tuned: Path, alpha: float, out: Path) -> Path:
    """Write the averaged folder to ``out`` (see the module docstring) and return it."""
    if not 0.0 <= alpha <= 1.0:
        raise SystemExit(f"--alpha must lie in [0, 1], got {alpha}")
    if out.exists():
        raise SystemExit(f"{out}: exists; choose a new folder (nothing is overwritten)")
    info, g_d, g_da = load_model_folder(base)
    tuned_info, tuned_g_d, _ = load_model_folder(tuned)
    if tuned_info.arch != info.arch:
        raise SystemExit(f"{tuned}: another architecture than {base} ({tuned_info.arch} vs {info.arch})")
    tuned_state = tuned_g_d.state_dict()
    with torch.no_grad():
        for name, tensor in g_d.state_dict().items():
            if tensor.is_floating_point():
                tensor.mul_(1.0 - alpha).add_(tuned_state[name], alpha=alpha)
    training = dict(info.training)
    training["weight_average"] = {
        "method": "WiSE-FT (Wortsman et al. 2022): G_D = (1 - alpha) base + alpha tuned",
        "alpha": alpha,
        "base": {"name": info.name, "steps": info.steps},
        "tuned": {"name": tuned_info.name, "steps": tuned_info.steps, "training": tuned_info.training},
    }
    return save_model_folder(out, replace(info, training=training), g_d, g_da, gain=load_gain(base, info))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", type=Path, help="the model folder fine-tuned from (e.g. models/cu111-default)")
    ap.add_argument("tuned", type=Path, help="its fine-tuned copy")
    ap.add_argument("--alpha", type=float, default=0.5, help="weight of the fine-tuned copy (default 0.5)")
    ap.add_argument("--out", type=Path, required=True, help="the new model folder (must not exist)")
    args = ap.parse_args(argv)
    print(average(args.base, args.tuned, args.alpha, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
