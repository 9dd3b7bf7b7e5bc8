#!/usr/bin/env bash
# Start the action server, the staff console and the Rasa server on embedded defaults (no Redis, no PostgreSQL).
# Usage: scripts/run_local.sh RASA_PORT ACTION_PORT [--shell]     (console port: CONSOLE_PORT, default 8080)
set -euo pipefail
cd "$(dirname "$0")/.."
rasa_port=${1:-5005}; action_port=${2:-5055}; mode=${3:-}
console_port=${CONSOLE_PORT:-8080}
py=.venv/bin/python
export PYTHONPATH=$PWD
# FRESH_DB=1: start on a new, empty embedded database (bookings, hand-offs) so that evaluation runs repeat;
# the file is kept under var/fresh/ for inspection. APP_DB_PATH names a database file explicitly.
if [ "${FRESH_DB:-0}" = "1" ] && [ -z "${DATABASE_URL:-}" ]; then
  mkdir -p var/fresh
  export APP_DB_PATH="$PWD/var/fresh/app-$(date +%Y%m%d-%H%M%S)-$$.sqlite"
  echo "fresh database: $APP_DB_PATH"
fi

endpoints=$(mktemp --suffix=.yml)
sed "s|localhost:5055|localhost:${action_port}|" bot/endpoints.yml > "$endpoints"

$py -m actions.server --port "$action_port" &
action_pid=$!
console_pid=""
if [ "$mode" != "--shell" ]; then
  RASA_URL="http://localhost:${rasa_port}" $py -m knowledge.console serve --port "$console_port" &
  console_pid=$!
fi
cleanup() {
  for pid in $action_pid $console_pid; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -f "$endpoints"
}
trap cleanup EXIT INT TERM

for _ in $(seq 1 120); do
  curl -sf "http://localhost:${action_port}/health" >/dev/null && break
  kill -0 "$action_pid" 2>/dev/null || { echo "action server failed to start" >&2; exit 1; }
  sleep 1
done

if [ "$mode" = "--shell" ]; then
  exec $py -m rasa shell --model models --endpoints "$endpoints" --port "$rasa_port"
fi

cat <<MSG

  Action server : http://localhost:${action_port}/health
  Rasa server   : http://localhost:${rasa_port}  (loading the model takes ~30 s)
  Staff console : http://localhost:${console_port}  (first account: .venv/bin/python -m knowledge.console adduser NAME --role editor)
  Talk to it    : curl -s localhost:${rasa_port}/webhooks/rest/webhook \\
                    -H 'Content-Type: application/json' \\
                    -d '{"sender":"demo","message":"làm giấy khai sinh cần gì"}'
  Or in a terminal: make chat          Stop: Ctrl-C

MSG
$py -m rasa run --model models --endpoints "$endpoints" --credentials bot/credentials.yml \
  --enable-api --port "$rasa_port" --cors "*"
