"""Figure of the simulated path's grid matched to the standing waves (model card, version 2.5).

    python bench/wave_figure.py [--pair 0] [--out models/cu111-default/wave_matching.png]

For the simulator's other surface states (``bench/sweeps.py``'s wavelength sweep: 0.4x, 0.8x and
1.25x Cu(111)'s wavelength, ``typical`` artefacts, pair ``--pair`` of seed 1014), one row each:
the clean map, the noisy image, G_D on the image's own grid (before version 2.5), G_D on the
grid where the waves have Cu(111)'s period (what the app does since), total variation 4 (the best
classical filter by SSIM on that sweep), and the shipped output minus the clean map. Every image
of a row shares the clean map's grey scale; titles give SSIM against the clean map (Table I's).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from quality import _grey as grey_panel  # noqa: E402
from quality import figure  # noqa: E402
from sweeps import PIXELS, PX, SIZE, WAVELENGTHS, classical, sweep_levels  # noqa: E402

import stmdenoise.denoise as denoise_module  # noqa: E402
from stmdenoise import metrics  # noqa: E402
from stmdenoise.denoise import Denoiser, default_model_dir  # noqa: E402
from stmdenoise.evaluation import BASELINES  # noqa: E402
from stmdenoise.physics import image_rng, sample_pair  # noqa: E402
from stmdenoise.processing import level_plane  # noqa: E402
from stmdenoise.scan import Scan  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pair", type=int, default=0, help="pair index of seed 1014 (default 0)")
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "cu111-default" / "wave_matching.png")
    args = ap.parse_args(argv)
    den = Denoiser.from_folder(default_model_dir(), device="cpu")
    tv = next(b for b in BASELINES.values() if b.label == "Total variation")
    levels = {lv.label: lv for lv in sweep_levels(1.0)["wavelength"]}
    panels = []
    for label, scale in WAVELENGTHS:
        if scale == 1.0:
            continue
        lv = levels[label]
        p = sample_pair(
            image_rng(1014, args.pair), pixels=PIXELS, size=SIZE, preset=lv.config, **dict(lv.scene)
        )
        clean, noisy = np.asarray(level_plane(p.clean)), np.asarray(level_plane(p.noisy))
        scan = Scan(noisy, pixel_size=(PX, PX), header={"simulated": True})
        matched = den.denoise(scan)
        view = denoise_module.wave_matched_view
        denoise_module.wave_matched_view = lambda s: (s, None)  # the bare pass on the own grid
        try:  # a new Scan: the Denoiser keeps the last scan's grid
            own = np.asarray(den.denoise(Scan(noisy, pixel_size=(PX, PX), header={"simulated": True})).data)
        finally:
            denoise_module.wave_matched_view = view
        out = np.asarray(matched.data)
        lo, hi = float(np.percentile(clean, 0.5)), float(np.percentile(clean, 99.5))
        period = matched.steps[-1].params.get("wave_period_px")
        rows = [
            (f"{label}: clean", clean),
            ("noisy, SSIM {:.3f}", noisy),
            ("G_D own grid, SSIM {:.3f}", own),
            (f"G_D matched ({period} px), SSIM {{:.3f}}", out),
            ("total variation 4, SSIM {:.3f}", classical(tv, 4.0, noisy)),
        ]
        for title, img in rows:
            text = title if "{" not in title else title.format(metrics.ssim(clean, img))
            panels.append((text, grey_panel(img, lo, hi)))
        d = out - clean - float(np.mean(out - clean))
        r = float(np.percentile(np.abs(d), 99.5))
        panels.append(("matched - clean", grey_panel(d, -r, r)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure(panels, args.out, cols=6)
    Image.open(args.out).convert("L").save(args.out, optimize=True)  # grey panels: a third the bytes
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
