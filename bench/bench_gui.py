"""GUI timings: start-up to first paint, simulation preview (target <= 1 s for 256^2), open-to-shown
latency, event-loop answer times.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_gui.py [--repeat N] [--startup-only]
Prints tables, each with a baseline measured in the same run: the app's time to first paint next
to a bare PySide6 window's (fresh interpreters, median of N), and the GUI thread's largest gap
between 10 ms timer ticks while training and while denoising next to the idle one (ratio column).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT.parent / "shared" / "realdata" / "nanonis"


#: A bare PySide6 window: the floor of any Qt start-up on this machine.
BARE = """
import sys, time
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
app = QApplication(sys.argv[:1])
class First(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and obj is win:
            print("PAINT", flush=True)
            app.quit()
        return False
win = QMainWindow()
win.setCentralWidget(QLabel("bare"))
app.installEventFilter(f := First())
win.resize(1400, 860)
win.show()
app.exec()
"""

#: The app as `python -m stmdenoise.gui.app --example` starts it, with a probe: first paint of the
#: main window (is torch imported yet?), then the example scan denoised.
APP = """
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
state = {}
def window():
    from stmdenoise.gui.window import MainWindow
    return next((w for w in app.topLevelWidgets() if isinstance(w, MainWindow)), None)
class First(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "paint" not in state and obj is window():
            state["paint"] = 1
            print("PAINT torch=%d" % ("torch" in sys.modules), flush=True)
        return False
def poll():
    w = window()
    if w is not None and "paint" in state and "torch" in sys.modules and "torch" not in state:
        state["torch"] = 1
        print("TORCH", flush=True)
    if w is not None and w.session.denoised is not None and not w.session.pool.busy:
        print("DENOISED", flush=True)
        w.shutdown()
        app.quit()
app.installEventFilter(f := First())
t = QTimer(); t.timeout.connect(poll); t.start(20)
from stmdenoise.gui.app import main
main(sys.argv[1:])
"""


def _startup(code: str, args: list[str]) -> dict[str, float]:
    """Seconds from starting a fresh interpreter to each line it prints (first word as key)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    seen: dict[str, float] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.setdefault(line.split()[0], time.perf_counter() - t0)
        if line.startswith("PAINT"):
            seen["torch_at_paint"] = float("torch=1" in line)
    proc.wait(timeout=600)
    return seen


def startup_table(repeat: int) -> None:
    """Time to first paint: the app (with the example scan) vs a bare PySide6 window, same run."""
    bare, app = [], []
    for _ in range(repeat):
        bare.append(_startup(BARE, []))
        settings = Path(tempfile.mkdtemp(prefix="bench_gui_")) / "s.ini"
        app.append(_startup(APP, ["--example", "--new-instance", "--settings", str(settings)]))

    def med(runs: list[dict[str, float]], key: str) -> str:
        vals = [r[key] for r in runs if key in r]
        return f"{statistics.median(vals):.2f}" if vals else "-"

    print(f"## Start-up (fresh interpreter, median of {repeat}), seconds")
    print("| window | first paint | torch imported | example denoised | torch before paint |")
    print("|---|---|---|---|---|")
    print(f"| bare PySide6 QMainWindow | {med(bare, 'PAINT')} | - | - | - |")
    before = sum(int(r.get("torch_at_paint", 1)) for r in app)
    print(
        f"| stmdenoise-gui --example | {med(app, 'PAINT')} | {med(app, 'TORCH')} | {med(app, 'DENOISED')} "
        f"| {before}/{len(app)} runs |"
    )
    print()


def _timer_gaps(app, seconds: float, until=lambda: False) -> list[float]:  # type: ignore[no-untyped-def]
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
    while time.perf_counter() < end and not until():
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    return gaps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--startup-only", action="store_true", help="only the start-up table")
    args = parser.parse_args()
    os.environ.setdefault("STMDENOISE_USER_DIR", tempfile.mkdtemp(prefix="bench_gui_"))
    startup_table(args.repeat)
    if args.startup_only:
        return 0
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
    # denoising the example scan (4 passes), measured from its start to its end
    from stmdenoise.paths import example_scans

    win.denoise_panel.passes_box.setCurrentIndex(win.denoise_panel.passes_box.findData(4))
    win.denoise_panel.auto_box.setChecked(True)
    win.session.open_paths(example_scans()[:1])
    while "denoise" not in win.session.pool.names():
        app.processEvents()
        time.sleep(0.001)
    denoising = _timer_gaps(app, 60.0, until=lambda: "denoise" not in win.session.pool.names())
    wait_until_idle(win, timeout_s=120)
    win.shutdown()
    print("| state | ticks | median | p99 | max | max / idle max |")
    print("|---|---|---|---|---|---|")
    base = max(idle)
    rows = (
        ("idle", idle),
        ("training (ngf 16, crop 64, batch 2)", busy),
        ("denoising (example, 4 passes)", denoising),
    )
    for label, g in rows:
        arr = np.asarray(g) * 1e3
        print(
            f"| {label} | {len(g)} | {np.median(arr):.1f} | {np.percentile(arr, 99):.1f} | {arr.max():.1f} "
            f"| {max(g) / base:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
