"""The ``stmdenoise`` command line (argparse sub-commands, one module each)."""
