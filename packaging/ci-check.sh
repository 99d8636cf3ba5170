#!/usr/bin/env bash
# CI packaging step: build the release artefacts with packaging/build.sh, install the Debian package
# with dpkg (first the previous, zipapp layout built from the same artefacts, then this one over it as
# an upgrade), use it as an operator would (version, help, man page, completion, discover + topology
# on a sandbox, from an empty directory with a minimal PATH), then purge it again.
#
# Installing touches /usr/bin, /usr/lib, /etc and /usr/share, so that part runs only as root, with
# dpkg, and when nothing named orchestrator is installed or configured yet; the package is purged on
# any exit, so the machine is never left with a stale /usr/bin/orchestrator. Ends with a
# "N passed, N failed" line.
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV_PY="${VENV_PY:-$ROOT/.venv/bin/python}"
PASSED=0
FAILED=0
SKIPPED=0
WORK="$(mktemp -d "${TMPDIR:-/tmp}/orchestrator-ci.XXXXXX")"
INSTALLED=0
SANDBOX_DIR="$WORK/sandbox"

check() {  # check "what" command...: run it, count it, show the output of a failure
  local what="$1"; shift
  local out
  if out="$("$@" 2>&1)"; then
    PASSED=$((PASSED + 1)); echo "ok      $what"
  else
    FAILED=$((FAILED + 1)); echo "FAILED  $what"; printf '%s\n' "$out" | sed 's/^/        /' | tail -20
  fi
}
skip() { SKIPPED=$((SKIPPED + 1)); echo "skipped $1"; }

remove_backend_files() {  # the SQLite files the checks created under the package's /var/lib directory
  rm -f /var/lib/orchestrator/orchestrator.sqlite3 /var/lib/orchestrator/orchestrator.sqlite3-wal \
    /var/lib/orchestrator/orchestrator.sqlite3-shm /var/lib/orchestrator/orchestrator.sqlite3.deploy-lock
  rmdir /var/lib/orchestrator 2>/dev/null || true
}

cleanup() {
  if [ -f "$SANDBOX_DIR/sandbox.json" ]; then
    "$ROOT/.venv/bin/orchestrator-sandbox" down --dir "$SANDBOX_DIR" >/dev/null 2>&1 || true
  fi
  if [ "$INSTALLED" = 1 ]; then
    dpkg --purge orchestrator >/dev/null 2>&1 || echo "ci-check: could not purge the orchestrator package" >&2
    remove_backend_files
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

in_clean_dir() {  # run a command as cron would: empty environment, minimal PATH, empty directory
  mkdir -p "$WORK/cwd" && (cd "$WORK/cwd" && env -i PATH=/usr/bin:/bin "$@")
}

echo "== packaging: build"
if ! PYTHON="$VENV_PY" bash "$ROOT/packaging/build.sh"; then
  echo "packaging: 0 passed, 1 failed"
  exit 1
fi
VERSION="$("$VENV_PY" -c 'import orchestrator_cli; print(orchestrator_cli.__version__)')"
DEB="$ROOT/dist/orchestrator_${VERSION}_all.deb"
check "dist/orchestrator --version" in_clean_dir "$ROOT/dist/orchestrator" --version
check "the .deb was built" test -s "$DEB"
check "the .deb carries the systemd unit" bash -c "dpkg-deb -c '$DEB' | grep -q ' ./lib/systemd/system/orchestrator.service$'"
check "the .deb carries the unpacked tree and no .pyc" bash -c \
  "dpkg-deb -c '$DEB' > '$WORK/contents' && grep -q ' ./usr/lib/orchestrator/orchestrator_cli/cli/main.py$' '$WORK/contents' &&
   grep -q ' ./usr/lib/orchestrator/orchestrator_cli/http/web/static/index.html$' '$WORK/contents' &&
   ! grep -E '__pycache__|[.]pyc$' '$WORK/contents'"
check "/usr/bin/orchestrator in the .deb is the launcher" bash -c \
  "dpkg-deb --fsys-tarfile '$DEB' | tar -xO ./usr/bin/orchestrator > '$WORK/launcher' &&
   test \"\$(head -1 '$WORK/launcher')\" = '#!/usr/bin/python3 -IS' && grep -q '^sys.path.insert(0, \"/usr/lib/orchestrator\")$' '$WORK/launcher'"

# The package as the previous releases built it (the zipapp at /usr/bin/orchestrator, no
# /usr/lib/orchestrator, no maintainer scripts), made from this build's artefacts with a lower
# version, to check that installing this package over it is a clean upgrade.
OLD_DEB="$WORK/orchestrator_${VERSION}~zipapp_all.deb"
make_zipapp_deb() {
  local tree="$WORK/zipapp-deb"
  rm -rf "$tree" && dpkg-deb -R "$DEB" "$tree" &&
    install -m 0755 "$ROOT/dist/orchestrator" "$tree/usr/bin/orchestrator" &&
    rm -rf "$tree/usr/lib/orchestrator" "$tree/DEBIAN/postinst" "$tree/DEBIAN/prerm" "$tree/DEBIAN/postrm" &&
    sed -i "s/^Version: .*/Version: ${VERSION}~zipapp/" "$tree/DEBIAN/control" &&
    (cd "$tree" && find . \( -path ./DEBIAN -o -path ./etc \) -prune -o -type f -printf '%P\0' | sort -z |
       xargs -0 md5sum) > "$tree/DEBIAN/md5sums" &&
    dpkg-deb --root-owner-group -Zxz --build "$tree" "$OLD_DEB" >/dev/null
}
check "a zipapp-layout .deb of the same build (the previous layout)" make_zipapp_deb

echo "== packaging: dpkg -i"
if [ "$(id -u)" != 0 ] || ! command -v dpkg >/dev/null 2>&1; then
  skip "dpkg -i (needs root and dpkg)"
elif dpkg-query -W orchestrator >/dev/null 2>&1 || [ -e /usr/bin/orchestrator ] || [ -e /etc/orchestrator.conf.json ] \
    || [ -e /var/lib/orchestrator ] || [ -e /usr/lib/orchestrator ]; then
  skip "dpkg -i (an orchestrator install, config, /usr/lib or /var/lib/orchestrator already exists here; left untouched)"
else
  INSTALLED=1
  if [ -s "$OLD_DEB" ]; then
    check "dpkg -i $(basename "$OLD_DEB") (zipapp layout)" dpkg --force-confdef --force-confold -i "$OLD_DEB"
    check "the zipapp layout runs" bash -c \
      'cd / && env -i PATH=/usr/bin:/bin orchestrator --version >/dev/null && /usr/bin/python3 -m zipfile -l /usr/bin/orchestrator >/dev/null'
  else
    skip "upgrade from the zipapp layout (its .deb was not built)"
  fi
  check "dpkg -i $(basename "$DEB")" dpkg --force-confdef --force-confold -i "$DEB"
  check "the launcher replaced the zipapp, dpkg's checksums match" bash -c \
    'cmp -s /usr/bin/orchestrator "$1" && dpkg -S /usr/bin/orchestrator | grep -qx "orchestrator: /usr/bin/orchestrator" &&
     test -z "$(dpkg --verify orchestrator)"' _ "$WORK/launcher"
  check "postinst byte-compiled the tree for /usr/bin/python3" bash -c \
    'tag="$(/usr/bin/python3 -c "import sys; print(sys.implementation.cache_tag)")" &&
     test -f "/usr/lib/orchestrator/orchestrator_cli/cli/__pycache__/main.$tag.pyc" &&
     test -f "/usr/lib/orchestrator/sqlalchemy/__pycache__/__init__.$tag.pyc"'
  find /usr/lib/orchestrator 2>/dev/null | sort > "$WORK/tree-after-install"
  check "orchestrator --version" in_clean_dir orchestrator --version
  check "orchestrator help lists relocate" bash -c 'cd / && env -i PATH=/usr/bin:/bin orchestrator help | grep -q "relocate"'
  if command -v man >/dev/null 2>&1; then
    check "man orchestrator" bash -c 'MANPAGER=cat MANWIDTH=100 man orchestrator 2>/dev/null | grep -q "register-candidate"'
  else
    skip "man orchestrator (man-db is not installed)"
  fi
  check "bash completion of -c rel" bash -c \
    'source /usr/share/bash-completion/completions/orchestrator; COMP_WORDS=(orchestrator -c rel); COMP_CWORD=2;
     _orchestrator; printf "%s\n" "${COMPREPLY[@]}" | grep -qx relocate'
  if command -v zsh >/dev/null 2>&1; then
    check "zsh -n on the zsh completion" zsh -n /usr/share/zsh/vendor-completions/_orchestrator
  else
    skip "zsh completion syntax (zsh is not installed)"
  fi
  check "systemd unit installed and not enabled" bash -c \
    'grep -qx "ExecStart=/usr/bin/orchestrator http" /lib/systemd/system/orchestrator.service &&
     ! ls /etc/systemd/system/*.wants/orchestrator.service >/dev/null 2>&1'
  check "register-candidate with the packaged /etc config (SQLite)" bash -c \
    'cd / && env -i PATH=/usr/bin:/bin orchestrator -c register-candidate -i db1.example.com:3306 --promotion-rule prefer | grep -qx db1.example.com:3306'
  if "$ROOT/.venv/bin/orchestrator-sandbox" up --dir "$SANDBOX_DIR" --servers 2 >"$WORK/sandbox.out" 2>&1; then
    CONFIG="$(sed -n 's/^config: //p' "$WORK/sandbox.out")"
    MASTER="$(awk 'NR>1 && $1 ~ /:[0-9]+$/ {print $1; exit}' "$WORK/sandbox.out")"
    check "discover on a sandbox" in_clean_dir orchestrator --config "$CONFIG" -c discover -i "$MASTER"
    check "topology on a sandbox" bash -c "cd / && env -i PATH=/usr/bin:/bin orchestrator --config '$CONFIG' -c topology -i '$MASTER' | grep -c : | grep -qx 2"
  else
    skip "discover + topology (no MariaDB sandbox: $(tail -1 "$WORK/sandbox.out"))"
  fi
  # As root nothing would stop a run from writing __pycache__ for a module the postinst missed.
  check "the runs wrote nothing under /usr/lib/orchestrator" bash -c \
    'find /usr/lib/orchestrator | sort | diff "$1" -' _ "$WORK/tree-after-install"
  check "dpkg --purge" dpkg --purge orchestrator
  INSTALLED=0
  remove_backend_files
  check "nothing left in /usr/bin, /usr/lib, /etc, /var/lib" bash -c \
    'test ! -e /usr/bin/orchestrator && test ! -e /usr/lib/orchestrator && test ! -e /etc/orchestrator.conf.json &&
     test ! -e /var/lib/orchestrator && test ! -e /lib/systemd/system/orchestrator.service'
fi

echo "packaging: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" = 0 ]
