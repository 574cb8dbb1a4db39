"""Entry of the bundle's ``stmdenoise`` console executable: the command line (the app without arguments)."""

import multiprocessing
import sys

from stmdenoise.__main__ import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # data-loader worker processes re-enter the executable
    sys.exit(main())
