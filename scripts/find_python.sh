#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa 3.6 needs < 3.11, underthesea 9 needs >= 3.10).
# Order: $PYTHON, pyenv's 3.10.x, python3.10 on PATH. Exit 1 with a clear message when none is found.
set -u
is310() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; }
if [ -n "${PYTHON:-}" ]; then
  if is310 "$PYTHON"; then echo "$PYTHON"; exit 0; fi
  echo "error: PYTHON=$PYTHON is not a Python 3.10 interpreter (Rasa 3.6 needs 3.10)" >&2; exit 1
fi
if command -v pyenv >/dev/null 2>&1; then
  for p in $(ls -d "$(pyenv root)"/versions/3.10*/bin/python 2>/dev/null | sort -V -r); do
    if is310 "$p"; then echo "$p"; exit 0; fi
  done
fi
for p in python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
  if command -v "$p" >/dev/null 2>&1 && is310 "$(command -v "$p")"; then command -v "$p"; exit 0; fi
done
cat >&2 <<'MSG'
error: no Python 3.10 found. Rasa 3.6 needs Python 3.10 (not 3.11+).
  Install one (e.g. `pyenv install 3.10.13`, or your distribution's python3.10 with venv),
  or point to it: make setup PYTHON=/path/to/python3.10
MSG
exit 1
