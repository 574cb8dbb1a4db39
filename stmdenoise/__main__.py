"""``python -m stmdenoise``: the app on its embedded defaults.

Until the desktop GUI lands this prints ``stmdenoise info`` for the shipped example scan(s).
"""

from __future__ import annotations

import sys

from stmdenoise.cli.main import main as cli_main
from stmdenoise.paths import example_scans, examples_dir


def main() -> int:
    scans = example_scans()
    if not scans:
        print(f"stmdenoise: no example scan found in {examples_dir()}", file=sys.stderr)
        return 1
    return cli_main(["info", *(str(p) for p in scans)])


if __name__ == "__main__":
    sys.exit(main())
