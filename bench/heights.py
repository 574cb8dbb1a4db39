"""Apparent heights: how much of the features standing far above the noise each output keeps.

    python bench/heights.py [--root ../shared/realdata]

For the Ko Cu(111) frames (each alone) and every two-direction channel of the real scans (each
direction, with its other direction as the app gives it, and alone), the shipped model's output
and what the app delivers: the least-squares factor of their Fourier components on the raw scan's
where the raw scan stands 10^5 times above its noise floor
(:func:`stmdenoise.metrics.heights.strong_contrast`; 1.00: kept whole, which removing noise alone
does). "notice" marks the outputs whose do-no-harm verdict says heights read low (kept < 0.99).
No truth is needed: it reads the frame and the output.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fidelity import KO_DIR, KO_NM_PER_PX, real_root, two_direction_scans  # noqa: E402

from stmdenoise.denoise import Denoiser, default_model_dir  # noqa: E402
from stmdenoise.io import read_plain_image  # noqa: E402
from stmdenoise.metrics.heights import StrongContrast, notice_for, strong_contrast  # noqa: E402
from stmdenoise.scan import Scan  # noqa: E402


def _row(den: Denoiser, label: str, path: str, raw: Scan, partner: Scan | None) -> str:
    checked = den.denoise_checked(raw, partner=partner)
    model = None if checked.model is None else strong_contrast(raw.data, checked.model.data)
    # which components count is the raw scan's alone; the judge measured what it delivered
    strong = model if model is not None else strong_contrast(raw.data, raw.data)
    delivered = checked.verdict.heights
    if delivered is None and checked.verdict.delivered == "raw" and strong is not None:
        delivered = StrongContrast(1.0, strong.components)  # the raw scan keeps its features whole
    cells = ["–" if m is None else f"{m.kept:.4f}" for m in (model, delivered)]
    count = "–" if strong is None else str(strong.components)
    gen = "–" if checked.model is None else str(checked.model.steps[-1].params.get("generator", ""))
    notice = "yes" if notice_for(checked.verdict.heights) else ""
    what = checked.verdict.delivered
    return f"| {label} | {path} | {gen} | {count} | {cells[0]} | {cells[1]} ({what}) | {notice} |"


def main(argv: list[str] | None = None) -> int:
    root = real_root(__doc__.splitlines()[0], argv)
    if root is None:
        return 2
    den = Denoiser.from_folder(default_model_dir(), device="cpu")
    print("| channel | path | model | strong components | model keeps | delivered keeps (what) | notice |")
    print("|---|---|---|---:|---:|---:|---|")
    for p in sorted(KO_DIR.glob("*.jpg")):
        print(_row(den, f"Ko {p.stem}", "single frame", read_plain_image(p, nm_per_px=KO_NM_PER_PX), None))
    for name, fwd, bwd in two_direction_scans(root):
        for raw, other in ((fwd, bwd), (bwd, fwd)):
            label = f"{name} {raw.direction}"
            print(_row(den, label, "two directions", raw, other))
            print(_row(den, label, "single frame", raw, None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
