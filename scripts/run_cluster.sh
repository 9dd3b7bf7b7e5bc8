#!/usr/bin/env bash
# Several Rasa servers on one machine behind nginx, sharing Redis (trackers, conversation locks, connector state)
# and PostgreSQL (bookings, hand-offs, unanswered questions), with one action server.
# Usage: scripts/run_cluster.sh [N=2] [PUBLIC_PORT=5005]
# Needs a Redis (REDIS_HOST/REDIS_PORT, default 127.0.0.1:6379) and a database (DATABASE_URL, default the local
# PostgreSQL database "test"); nginx is installed from Debian when missing (scripts/find_nginx.sh). The same files
# and commands are used by deploy/compose.yml.
# Only the public port is meant to be reachable from outside, and it serves only the platform webhooks and health
# (cluster/proxy.py); the Rasa servers and the action server listen on 127.0.0.1. The Rasa HTTP API needs
# RASA_TOKEN (default: var/rasa_token, created when missing); ACTION_SERVER_TOKEN is generated when unset.
# Platform channels: CREDENTIALS=bot/credentials.platforms.yml (with the ZALO_* / MESSENGER_* variables).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2}; public_port=${2:-5005}
py=.venv/bin/python
export PYTHONPATH=$PWD
export REDIS_HOST=${REDIS_HOST:-127.0.0.1} REDIS_PORT=${REDIS_PORT:-6379} REDIS_DB=${REDIS_DB:-0}
export REDIS_URL=${REDIS_URL:-redis://$REDIS_HOST:$REDIS_PORT/$REDIS_DB}
export DATABASE_URL=${DATABASE_URL:-postgresql+psycopg2://postgres@127.0.0.1:5432/test}
action_port=${ACTION_PORT:-5055}
export ACTION_SERVER_URL=${ACTION_SERVER_URL:-http://127.0.0.1:$action_port/webhook}
export RASA_TOKEN=${RASA_TOKEN:-$($py -m infra.rasa_api ensure-token)}
export ACTION_SERVER_TOKEN=${ACTION_SERVER_TOKEN:-$($py -c 'import secrets; print(secrets.token_urlsafe(32))')}
first_rasa=${FIRST_RASA_PORT:-5101}
model=${MODEL:-models}
run_dir=${CLUSTER_RUN_DIR:-var/cluster-$public_port}
nginx=$(bash scripts/find_nginx.sh)

redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1 || \
  $py - <<PY || { echo "Redis is not reachable at $REDIS_HOST:$REDIS_PORT" >&2; exit 1; }
import redis; redis.Redis(host="$REDIS_HOST", port=$REDIS_PORT).ping()
PY
$py -c "import sqlalchemy as sa; sa.create_engine('$DATABASE_URL').connect().close()" 2>/dev/null || {
  echo "the database at DATABASE_URL is not reachable: $DATABASE_URL" >&2; exit 1; }

pids=()
cleanup() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

$py -m actions.server --host 127.0.0.1 --port "$action_port" & pids+=($!)
backends=()
for i in $(seq 0 $((n - 1))); do
  port=$((first_rasa + i))
  $py -m cluster.serve --model "$model" --endpoints bot/endpoints.cluster.yml \
    --credentials "${CREDENTIALS:-bot/credentials.yml}" --interface 127.0.0.1 --port "$port" --quiet & pids+=($!)
  backends+=(--backend "127.0.0.1:$port")
done
mkdir -p "$run_dir"; run_dir=$(cd "$run_dir" && pwd)
$py -m cluster.proxy --listen "${PUBLIC_HOST:-0.0.0.0}:$public_port" --prefix "$run_dir" "${backends[@]}" \
  > "$run_dir/nginx.conf"
"$nginx" -p "$run_dir" -c "$run_dir/nginx.conf" -e "$run_dir/error.log" -g 'daemon off;' & pids+=($!)

for _ in $(seq 1 300); do
  ready=0
  for i in $(seq 0 $((n - 1))); do
    curl -sf "http://127.0.0.1:$((first_rasa + i))/webhooks/ops/ready" >/dev/null && ready=$((ready + 1))
  done
  [ "$ready" = "$n" ] && break
  sleep 1
done
cat <<MSG

  $ready of $n Rasa servers ready behind nginx on port $public_port (public: the platform webhooks and
  /webhooks/ops/health, /webhooks/ops/ready; everything else is a 404 there)
  Each server on 127.0.0.1:$first_rasa.. : /webhooks/ops/metrics, and the HTTP API with ?token=\$RASA_TOKEN
  Action server: http://127.0.0.1:$action_port/ready      Stop: Ctrl-C

MSG
wait -n "${pids[@]}"
