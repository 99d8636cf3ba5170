#!/usr/bin/env bash
# The main job on one machine: a 4-server MariaDB sandbox (GTID replication, 127.0.0.1:23306-23309),
# the embedded SQLite backend, discovery of the whole topology, and its tree.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
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
