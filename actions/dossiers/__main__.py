"""Forwards to ``python -m onestop.dossiers`` (codes, show, proof...), kept at its old name for existing scripts."""
import sys

from onestop.dossiers.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
