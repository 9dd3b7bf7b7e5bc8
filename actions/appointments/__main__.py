"""Forwards to ``python -m onestop.appointments`` (an office's day list), kept at its old name for existing scripts."""
import sys

from onestop.appointments.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
