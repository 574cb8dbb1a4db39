"""Entry point of the bundle's ``stmdenoise-gui`` executable (PyInstaller runs this file as ``__main__``)."""

import multiprocessing
import sys

from stmdenoise.gui.app import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # data-loader worker processes re-enter the executable
    sys.exit(main())
