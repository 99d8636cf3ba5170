#!/usr/bin/env bash
# Check the PyInstaller build made with --with-service: `orchestrator http`, run from the built
# executable with the Debian package's service libraries, serves /api/clusters-info and the web root
# on a SQLite backend.
#
#   packaging/check-service-binary.sh              # builds first (PyInstaller from PyPI: minutes)
#   packaging/check-service-binary.sh --dist DIR   # DIR/orchestrator and DIR/orchestrator_*.deb of
#                                                  # `build.sh --bundle pyinstaller --with-service --out DIR`
#
# Installs nothing: the executable looks for the service libraries in /usr/lib/orchestrator/service,
# so it runs in a private mount namespace (unshare -m, hence root) where a read-only overlay shows the
# package's /usr/lib/orchestrator on top of the real /usr/lib; no other process sees it. Needs curl.
# Environment: PYTHON (for the build, default the project's .venv/bin/python). Exits non-zero on failure.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
DIST=""
case "${1:-}" in
  --dist) DIST="${2:?--dist needs a directory}" ;;
  --dist=*) DIST="${1#*=}" ;;
  "") ;;
  -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "check-service-binary.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "check-service-binary.sh: needs root (unshare -m and mount)" >&2; exit 2; }
command -v curl >/dev/null || { echo "check-service-binary.sh: needs curl" >&2; exit 2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/orchestrator-service-check.XXXXXX")"
SERVER=""
cleanup() {
  if [ -n "$SERVER" ] && kill -0 "$SERVER" 2>/dev/null; then
    kill -TERM "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "$DIST" ]; then
  DIST="$WORK/dist"
  PYTHON="$PYTHON" bash "$ROOT/packaging/build.sh" --bundle pyinstaller --with-service --out "$DIST"
fi
EXE="$DIST/orchestrator"
DEB="$(ls "$DIST"/orchestrator_*.deb 2>/dev/null | head -1)"
[ -x "$EXE" ] && [ -n "$DEB" ] || { echo "check-service-binary.sh: no orchestrator and .deb in $DIST" >&2; exit 2; }
dpkg-deb -x "$DEB" "$WORK/deb"
[ -d "$WORK/deb/usr/lib/orchestrator/service" ] \
  || { echo "check-service-binary.sh: $DEB has no service libraries (built without --with-service?)" >&2; exit 1; }

PORT="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$WORK/run"
printf '{"BackendDB": "sqlite", "SQLite3DataFile": "%s", "ListenAddress": "127.0.0.1:%s"}\n' \
  "$WORK/run/orchestrator.sqlite3" "$PORT" > "$WORK/run/orchestrator.conf.json"
# shellcheck disable=SC2016  # expanded by the inner shell
unshare -m --propagation private bash -c '
  mount -t overlay overlay -o "lowerdir=$1/deb/usr/lib:/usr/lib" /usr/lib || exit 9
  cd "$1/run" && exec env -i PATH=/usr/bin:/bin "$2" --config "$1/run/orchestrator.conf.json" http
' check "$WORK" "$EXE" > "$WORK/http.log" 2>&1 &
SERVER=$!

FAILED=0
for _ in $(seq 1 120); do  # start-up: unpacking, the schema's deployment; a loaded machine is slow
  curl -sf -o "$WORK/clusters-info.json" "http://127.0.0.1:$PORT/api/clusters-info" && break
  kill -0 "$SERVER" 2>/dev/null || break
  sleep 1
done
if grep -q '^\[' "$WORK/clusters-info.json" 2>/dev/null; then
  echo "ok      GET /api/clusters-info: $(head -c 80 "$WORK/clusters-info.json")"
else
  echo "FAILED  GET /api/clusters-info; the server's output:"; sed 's/^/        /' "$WORK/http.log" | tail -20
  FAILED=1
fi
if curl -sfL "http://127.0.0.1:$PORT/" | grep -q '<title>orchestrator</title>'; then
  echo "ok      GET / (the web interface)"
else
  echo "FAILED  GET / (the web interface)"; FAILED=1
fi
exit "$FAILED"
