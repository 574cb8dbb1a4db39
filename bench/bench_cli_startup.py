"""Start-up time of the command line: `stmdenoise info FILE` against `python -c "import numpy"`.

    python bench/bench_cli_startup.py [--repeat 7] [FILE]

Issue 18: `stmdenoise info` must not import torch and should start in about the time Python
takes to import numpy. Each command runs ``--repeat`` times in a fresh interpreter, alternating,
so a busy machine slows both alike; the table gives the median and min wall times and each
command's ratio to the numpy baseline of the same run. FILE defaults to the example scan the
app ships with (written to a temporary folder).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _time(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", type=Path, help="scan for `stmdenoise info` (default: example scan)")
    ap.add_argument("--repeat", type=int, default=7, help="runs per command (default 7)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.file
        if path is None:
            from stmdenoise.physics.example import write_example_scan

            path = write_example_scan(Path(tmp) / "example.sxm")
        py = sys.executable
        commands = {
            'python -c "import numpy" (baseline)': [py, "-c", "import numpy"],
            "stmdenoise info FILE": [py, "-m", "stmdenoise", "info", str(path)],
            "stmdenoise train --help": [py, "-m", "stmdenoise", "train", "--help"],
            'python -c "import torch" (for scale)': [py, "-c", "import torch"],
        }
        for cmd in commands.values():  # warm the file cache once
            _time(cmd)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, cmd in commands.items():
                times[name].append(_time(cmd))
    base = statistics.median(next(iter(times.values())))
    print(f"# CLI start-up ({args.repeat} runs each, alternating; fresh interpreters)\n")
    print("| command | median s | min s | median / numpy |")
    print("|---|---:|---:|---:|")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"| {name} | {med:.2f} | {min(ts):.2f} | {med / base:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
