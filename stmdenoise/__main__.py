"""``python -m stmdenoise``: start the desktop app; ``python -m stmdenoise COMMAND ...`` runs the CLI.

A first argument that is neither an option nor an existing file or folder is taken as a
sub-command of the ``stmdenoise`` command line (``python -m stmdenoise info FILE``), so
headless use keeps working; otherwise the GUI starts with the given files.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to the GUI or the CLI; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and not args[0].startswith("-") and not Path(args[0]).exists():
        from stmdenoise.cli.main import main as cli_main

        return cli_main(args)
    from stmdenoise.gui.app import main as gui_main

    return gui_main(args)


if __name__ == "__main__":
    sys.exit(main())
