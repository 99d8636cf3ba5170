#!/usr/bin/env bash
# The main job on one machine: a 4-server MariaDB sandbox (GTID replication, 127.0.0.1:23306-23309),
# the embedded SQLite backend, discovery of the whole topology, and its tree.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing MariaDB server (Debian package mariadb-server) for the sandbox..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
  else
    echo "sandbox-demo: mariadbd not found; install MariaDB server (e.g. apt-get install mariadb-server)" >&2
    exit 1
  fi
fi
DIR=${ORCH_SANDBOX_DIR:-/tmp/orchestrator-sandbox}
PORT=${ORCH_SANDBOX_PORT:-23306}
"$BIN/orchestrator-sandbox" down --dir "$DIR" >/dev/null 2>&1 || true
"$BIN/orchestrator-sandbox" up --dir "$DIR" --base-port "$PORT"
CONF="$DIR/orchestrator.conf.json"
"$BIN/orchestrator" --config "$CONF" -c discover -i "127.0.0.1:$((PORT + 1))"
"$BIN/orchestrator" --config "$CONF" -c topology -i "127.0.0.1:$PORT"
echo
echo "Try: $BIN/orchestrator --config $CONF -c help"
echo "Stop the sandbox with: $BIN/orchestrator-sandbox down --dir $DIR"
