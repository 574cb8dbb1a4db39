"""Do the two scan directions show the surface at the same contrast?

    python bench/direction_contrast.py [--root ../shared/realdata]

The forward/backward fidelity estimate counts every difference between the looks as noise. For
every registrable two-direction channel the table prints, at large scales (0 < k <= 1/32 cycles
per pixel, :data:`stmdenoise.metrics.contrast.LARGE_SCALE`): the coherence of the two looks, the
backward frame's amplitude relative to the forward one, the share of the raw frame's estimated
error that lies there, and the share of that error a single scale factor on the backward frame
would leave (near 0: the difference there is a contrast mismatch, not noise). "named" marks the
channels where the app's do-no-harm verdict says so (:class:`stmdenoise.metrics.contrast.ContrastMismatch`).
Each channel is measured against the look the do-no-harm judge uses (`judging_look`): for a
current recorded with the Z feedback on (stmdenoise.io.feedback, marked) the backward frame
negated where that agrees with the forward one, since its directions differ by the feedback error.
The last column is the forward frame's power over the backward frame's in the finest octave (periods
2-4 px; `stmdenoise.metrics.noise_share.fine_power_ratio`, which the two-direction filter reads to give
a clearly louder frame its own share of the noise since version 2.12), where most channels hold
mostly noise: the estimate assumes the two looks equally noisy
(away from 1, the ratios it reports are pulled but not its ranking of two outputs, since the excess
is the same for every output; a backward frame that is *smoother* rather than less noisy would,
however, reward smoothing). The last column: how far apart the offsets registering the top and the
bottom half of the rows lie (rows, columns; `stmdenoise.metrics.registration.halves_offsets`),
"named" where the do-no-harm verdict says the look does not sit at one offset (1 px or more
along either axis: drift or creep between the directions, or too little structure to register
on; the estimate then charges every output for the misregistration).

A second table, for the named channels: the shipped model's output and the best Gaussian of the
classical sweep, scored against the judge's look and against it rescaled about its
mean by 1 / amplitude (so both looks show the forward frame's contrast): how much of a filter's
lead the contrast mismatch explains.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fidelity import real_root, two_direction_scans  # noqa: E402

from stmdenoise.io.feedback import feedback_error_channel  # noqa: E402
from stmdenoise.metrics import NotScorableError  # noqa: E402
from stmdenoise.metrics.contrast import at_contrast, contrast_mismatch  # noqa: E402
from stmdenoise.metrics.fidelity import pair_fidelity  # noqa: E402
from stmdenoise.metrics.noise_share import fine_power_ratio  # noqa: E402
from stmdenoise.metrics.registration import halves_offsets  # noqa: E402
from stmdenoise.scan import Scan  # noqa: E402
from stmdenoise.training.real_fidelity import classical_methods, judging_look  # noqa: E402


def rescaled_scores(fwd: Scan, bwd: Scan, look: Scan, offset: tuple[float, float], ratio: float) -> str:
    """Markdown cells: the model (given ``bwd`` as the app gives it) and the best Gaussian against
    the judge's ``look`` and against it rescaled."""
    from stmdenoise.denoise import Denoiser, default_model_dir

    rescaled = look.with_data(at_contrast(look, ratio))
    model = Denoiser.from_folder(default_model_dir(), device="cpu").denoise(fwd, partner=bwd).data
    gauss = classical_methods(["gaussian"])  # as the fidelity bench runs them (NaN rows kept)
    outs = {m.label: m.run(fwd, bwd) for m in gauss}
    cells = []
    for judged in (look, rescaled):
        errs = {k: pair_fidelity(o, fwd, judged, offset=offset).overall.error for k, o in outs.items()}
        best = min(errs, key=lambda k: errs[k])
        cells += [
            f"{pair_fidelity(model, fwd, judged, offset=offset).overall.error:.2f}",
            f"{errs[best]:.2f} ({best})",
        ]
    return " | ".join(cells)


def main(argv: list[str] | None = None) -> int:
    root = real_root(__doc__.splitlines()[0], argv)
    if root is None:
        return 2
    print("| channel | coherence | backward / forward amplitude | share of raw error | left after one factor "
          "| named | forward / backward power, 2-4 px | halves apart: rows, columns |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---|---:|---:|")
    named_rows = []
    for name, fwd, bwd in two_direction_scans(root):
        try:
            offset, look = judging_look(fwd, bwd)
            m = contrast_mismatch(fwd, look, offset)
        except (NotScorableError, ValueError):
            continue
        label = name + (
            (" (feedback error, negated look)" if look is not bwd else " (feedback error, stored look)")
            if feedback_error_channel(fwd)
            else ""
        )
        named = "yes" if m.named else ""
        left = m.left_after_scaling
        fine = fine_power_ratio(fwd.data, bwd.data)
        halves = halves_offsets(fwd.data, look.data, offset)
        apart = (
            "n/a"
            if halves is None
            else f"{halves.apart[0]:.2f}, {halves.apart[1]:.2f}" + (" (named)" if halves.named else "")
        )
        cells = (
            f"{m.coherence:.3f} | {m.ratio:.3f} | {m.share:.2f} | {left:.2f} | {named} | {fine:.2f} | {apart}"
        )
        print(f"| {label} | {cells} |")
        if m.named:
            named_rows.append(f"| {label} | {rescaled_scores(fwd, bwd, look, offset, m.ratio)} |")
    if named_rows:
        print("\nNamed channels, overall estimated error (raw = 1.00 against each look):\n")
        print("| channel | model, judge's look | best Gaussian, judge's look | model, rescaled look "
              "| best Gaussian, rescaled look |")  # fmt: skip
        print("|---|---:|---:|---:|---:|")
        print("\n".join(named_rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
