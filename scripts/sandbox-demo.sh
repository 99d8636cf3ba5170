#!/usr/bin/env bash
# The main job on one machine: a 4-server MariaDB sandbox (GTID replication, 127.0.0.1:23306-23309,
# replicas read-only), the embedded SQLite backend, discovery of the whole topology, and its tree.
# ORCH_SANDBOX_DIR and ORCH_SANDBOX_PORT choose another directory and first port.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/.venv/bin"
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
ORC="$BIN/orchestrator --config $CONF"
$ORC -c discover -i "127.0.0.1:$((PORT + 1))"
$ORC -c topology -i "127.0.0.1:$PORT"
cat <<NEXT

Every command needs the sandbox's config (--config), or it reads /etc/orchestrator.conf.json and
an empty backend. Next, for example:
  $ORC -c topology -i 127.0.0.1:$PORT
  $ORC -c relocate -i 127.0.0.1:$((PORT + 3)) -d 127.0.0.1:$((PORT + 1))
  $ORC -c help
More in README.md, "Everyday use". Stop the sandbox with:
  $BIN/orchestrator-sandbox down --dir $DIR
NEXT
