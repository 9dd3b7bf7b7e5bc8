#!/usr/bin/env bash
# Several Rasa servers on one machine behind cluster.balancer, sharing Redis (trackers, conversation locks,
# connector state) and PostgreSQL (bookings, hand-offs, unanswered questions), with one action server.
# Usage: scripts/run_cluster.sh [N=2] [BALANCER_PORT=5005]
# Needs a Redis (REDIS_HOST/REDIS_PORT, default 127.0.0.1:6379) and a database (DATABASE_URL, default the local
# PostgreSQL database "test"). The same files and commands are used by deploy/compose.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2}; lb_port=${2:-5005}
py=.venv/bin/python
export PYTHONPATH=$PWD
export REDIS_HOST=${REDIS_HOST:-127.0.0.1} REDIS_PORT=${REDIS_PORT:-6379} REDIS_DB=${REDIS_DB:-0}
export REDIS_URL=${REDIS_URL:-redis://$REDIS_HOST:$REDIS_PORT/$REDIS_DB}
export DATABASE_URL=${DATABASE_URL:-postgresql+psycopg2://postgres@127.0.0.1:5432/test}
action_port=${ACTION_PORT:-5055}
export ACTION_SERVER_URL=${ACTION_SERVER_URL:-http://127.0.0.1:$action_port/webhook}
first_rasa=${FIRST_RASA_PORT:-5101}

redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1 || \
  $py - <<PY || { echo "Redis is not reachable at $REDIS_HOST:$REDIS_PORT" >&2; exit 1; }
import redis; redis.Redis(host="$REDIS_HOST", port=$REDIS_PORT).ping()
PY
$py -c "import sqlalchemy as sa; sa.create_engine('$DATABASE_URL').connect().close()" 2>/dev/null || {
  echo "the database at DATABASE_URL is not reachable: $DATABASE_URL" >&2; exit 1; }

pids=()
cleanup() { for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

$py -m actions.server --port "$action_port" & pids+=($!)
backends=()
for i in $(seq 0 $((n - 1))); do
  port=$((first_rasa + i))
  $py -m rasa run --model models --endpoints bot/endpoints.cluster.yml --credentials "${CREDENTIALS:-bot/credentials.yml}" \
    --enable-api --port "$port" --quiet & pids+=($!)
  backends+=(--backend "http://127.0.0.1:$port")
done
$py -m cluster.balancer --port "$lb_port" "${backends[@]}" & pids+=($!)

for _ in $(seq 1 240); do
  ready=$(curl -s "http://127.0.0.1:$lb_port/_balancer" | $py -c 'import json,sys; print(sum(json.load(sys.stdin)["backends"].values()))' 2>/dev/null || echo 0)
  [ "$ready" = "$n" ] && break
  sleep 1
done
cat <<MSG

  $n Rasa servers ready behind http://127.0.0.1:$lb_port  (backend state: /_balancer)
  Each server: /webhooks/ops/health, /webhooks/ops/ready, /webhooks/ops/metrics
  Action server: http://127.0.0.1:$action_port/ready      Stop: Ctrl-C

MSG
wait -n "${pids[@]}"
