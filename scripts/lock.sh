#!/usr/bin/env bash
# Re-resolve the whole stack in one pip command (rasa named in it, see shared/docs/offline-models.md)
# in a scratch venv and write the exact versions to requirements.lock.
set -euo pipefail
interp=$(bash "$(dirname "$0")/find_python.sh")
tmp=$(mktemp -d)
"$interp" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --upgrade pip==24.2
"$tmp/venv/bin/pip" install --quiet -r "$(dirname "$0")/../requirements.in"
{ echo "# Exact versions resolved from requirements.in by scripts/lock.sh ($(date -u +%F)). Install: make setup"
  "$tmp/venv/bin/pip" freeze --exclude-editable | grep -v '^pip=='; } > "$(dirname "$0")/../requirements.lock"
rm -rf "$tmp"
echo "requirements.lock written"
