"""GUI timings: simulation preview (target <= 1 s for 256^2), open-to-shown latency, event-loop answer times.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_gui.py [--repeat N]
Prints tables; the event-loop gaps while training are reported next to the idle baseline measured
in the same run (ratio column).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "realdata" / "nanonis"


def _timer_gaps(app, seconds: float) -> list[float]:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QTimer

    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    return gaps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("STMDENOISE_USER_DIR", tempfile.mkdtemp(prefix="bench_gui_"))
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from PySide6.QtWidgets import QApplication

    from stmdenoise.gui.app import make_window, wait_until_idle
    from stmdenoise.gui.simulation import preview_job
    from stmdenoise.jobs import run_job

    print("## Simulation preview (sample_pair through the panel's job), seconds")
    print("| pixels | median | min |")
    print("|---|---|---|")
    for pixels in (128, 256):
        times = []
        for seed in range(args.repeat):
            job = preview_job(seed=seed, pixels=pixels, size=36e-9, preset="typical", extra={})
            rec = run_job(job(threading.Event()), lambda r: None)
            times.append(rec.seconds)
        print(f"| {pixels} | {statistics.median(times):.3f} | {min(times):.3f} |")

    tmp = Path(tempfile.mkdtemp(prefix="bench_gui_"))
    win = make_window(tmp / "s.ini")
    win.resize(1400, 860)
    win.show()
    app = QApplication.instance()
    print("\n## Open a real scan: drop -> image shown (read + display), seconds")
    print("| file | seconds |")
    print("|---|---|")
    for name in ("img_0071.sxm", "STM_nanonis_generic_4_5.sxm"):
        t0 = time.perf_counter()
        win.session.open_paths([REAL / name])
        while win.session.raw is None or win.session.raw.source.name != name:
            app.processEvents()
        print(f"| {name} | {time.perf_counter() - t0:.3f} |")
        wait_until_idle(win)

    print("\n## Event loop: gaps between 10 ms QTimer ticks, ms")
    idle = _timer_gaps(app, 2.0)
    real = tmp / "real"
    real.mkdir()
    (real / "a.sxm").symlink_to(REAL / "img_0071.sxm")
    panel = win.training
    panel.real_edit.setText(str(real))
    panel.steps_box.setValue(100000)
    panel.crop_box.setValue(64)
    panel.batch_box.setValue(2)
    panel.device_box.setCurrentIndex(1)
    request = panel.request(
        ngf=16, blocks=4, ndf=16, fa_width=16, sim_pixels=96, sim_pool=8, checkpoint_every=0
    )
    panel.start(request)
    while sum(1 for r in panel.records if getattr(r, "losses", None)) < 2:
        app.processEvents()
        time.sleep(0.005)
    busy = _timer_gaps(app, 4.0)
    panel.cancel()
    wait_until_idle(win, timeout_s=120)
    win.shutdown()
    print("| state | ticks | median | p99 | max | max / idle max |")
    print("|---|---|---|---|---|---|")
    base = max(idle)
    for label, g in (("idle", idle), ("training (ngf 16, crop 64, batch 2)", busy)):
        arr = np.asarray(g) * 1e3
        print(
            f"| {label} | {len(g)} | {np.median(arr):.1f} | {np.percentile(arr, 99):.1f} | {arr.max():.1f} "
            f"| {max(g) / base:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
