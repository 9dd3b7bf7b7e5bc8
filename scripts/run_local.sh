#!/usr/bin/env bash
# Start the action server, the staff console and the Rasa server on embedded defaults (no Redis, no PostgreSQL),
# every one of them on 127.0.0.1 only.
# Usage: scripts/run_local.sh RASA_PORT ACTION_PORT [--shell]     (console port: CONSOLE_PORT, default 8080)
# The Rasa HTTP API needs a token even here: RASA_TOKEN, else a random one kept in var/rasa_token (created on the
# first run; staff commands and the console read it from there). The action server gets a fresh shared secret
# (ACTION_SERVER_TOKEN) per run. The REST channel (/webhooks/rest/webhook) needs no token on localhost.
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

export RASA_TOKEN=${RASA_TOKEN:-$($py -m infra.rasa_api ensure-token)}
export ACTION_SERVER_TOKEN=${ACTION_SERVER_TOKEN:-$($py -c 'import secrets; print(secrets.token_urlsafe(32))')}
export RASA_URL=${RASA_URL:-http://127.0.0.1:${rasa_port}}
# Plain HTTP on localhost: the console's cookies cannot be Secure here (they are by default).
export CONSOLE_SECURE_COOKIES=${CONSOLE_SECURE_COOKIES:-0}

endpoints=$(mktemp --suffix=.yml)
sed "s|localhost:5055|127.0.0.1:${action_port}|" bot/endpoints.yml > "$endpoints"

$py -m actions.server --host 127.0.0.1 --port "$action_port" &
action_pid=$!
console_pid=""
if [ "$mode" != "--shell" ]; then
  $py -m console serve --host 127.0.0.1 --port "$console_port" &
  console_pid=$!
fi
cleanup() {
  for pid in $action_pid $console_pid; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -f "$endpoints"
}
trap cleanup EXIT INT TERM

for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:${action_port}/health" >/dev/null && break
  kill -0 "$action_pid" 2>/dev/null || { echo "action server failed to start" >&2; exit 1; }
  sleep 1
done

if [ "$mode" = "--shell" ]; then
  exec $py -m rasa shell --model models --endpoints "$endpoints" --port "$rasa_port"
fi

token_note="RASA_TOKEN from your environment"
[ -f var/rasa_token ] && [ "$RASA_TOKEN" = "$(cat var/rasa_token)" ] && token_note="in var/rasa_token"
cat <<MSG

  Action server : http://127.0.0.1:${action_port}/health
  Rasa server   : http://127.0.0.1:${rasa_port}  (loading the model takes ~30 s)
                  HTTP API token ${token_note}: curl "http://127.0.0.1:${rasa_port}/status?token=\$(cat var/rasa_token)"
  Staff console : http://127.0.0.1:${console_port}  (first account: .venv/bin/python -m console adduser NAME --role editor)
  Talk to it    : curl -s 127.0.0.1:${rasa_port}/webhooks/rest/webhook \\
                    -H 'Content-Type: application/json' \\
                    -d '{"sender":"demo","message":"làm giấy khai sinh cần gì"}'
  Or in a terminal: make chat          Stop: Ctrl-C

MSG
$py -m cluster.serve --model models --endpoints "$endpoints" --credentials bot/credentials.yml \
  --interface 127.0.0.1 --port "$rasa_port"
