#!/usr/bin/env bash
# Build the one-file `orchestrator` executable and its Debian package in one command.
#
#   packaging/build.sh                       # dist/orchestrator + dist/orchestrator_<version>_all.deb
#   packaging/build.sh --bundle pyinstaller  # interpreter included: dist/orchestrator + ..._<arch>.deb
#   packaging/build.sh --out DIR --no-deb    # only the executable, into DIR
#   packaging/build.sh --with-service        # the .deb also carries `orchestrator http`'s libraries
#
# Environment: PYTHON (default python3; needs pip, and 3.11 to match Debian 12's /usr/bin/python3),
# SHEBANG (interpreter line of the zipapp and of the .deb's launcher, default "/usr/bin/python3 -IS":
# isolated from PYTHON* variables and user site-packages, no site import), SOURCE_DATE_EPOCH (dated
# man page). The .deb installs the zipapp's tree unpacked; see packaging/README.md for both choices.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
SHEBANG="${SHEBANG:-/usr/bin/python3 -IS}"
BUNDLE="zipapp"
OUT="$ROOT/dist"
BUILD_DEB=1
WITH_SERVICE=0

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "build.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) BUNDLE="${2:-}"; shift 2 ;;
    --bundle=*) BUNDLE="${1#*=}"; shift ;;
    --out) OUT="${2:-}"; shift 2 ;;
    --out=*) OUT="${1#*=}"; shift ;;
    --no-deb) BUILD_DEB=0; shift ;;
    --with-service) WITH_SERVICE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
case "$BUNDLE" in zipapp|pyinstaller) ;; *) die "--bundle must be zipapp or pyinstaller, not '$BUNDLE'" ;; esac
[ -n "$OUT" ] || die "--out needs a directory"
# The .deb's launcher runs, and its postinst byte-compiles with, the interpreter SHEBANG names.
INTERPRETER="${SHEBANG%% *}"
if [ "$BUILD_DEB" = 1 ]; then
  case "$INTERPRETER" in
    */env) die "SHEBANG for the .deb must name the interpreter itself (its postinst compiles with it), not env" ;;
    /*) ;;
    *) die "SHEBANG must start with an absolute interpreter path, not '$INTERPRETER'" ;;
  esac
fi
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
  || die "$PYTHON is missing or older than 3.11"
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "$PYTHON has no pip"

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/orchestrator-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
VERSION="$(cd "$ROOT" && "$PYTHON" -c 'import orchestrator_cli; print(orchestrator_cli.__version__)')"
PIP=("$PYTHON" -m pip install -qq --disable-pip-version-check --no-compile --no-warn-script-location)

# Runtime requirements: the project's dependencies less typer, which only the sandbox CLI uses.
"$PYTHON" - "$ROOT/pyproject.toml" > "$WORK/requirements.txt" <<'EOF'
import re, sys, tomllib
with open(sys.argv[1], "rb") as fh:
    deps = tomllib.load(fh)["project"]["dependencies"]
print("\n".join(d for d in deps if re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0].lower() != "typer"))
EOF

APP="$WORK/app"
echo "build.sh: vendoring orchestrator $VERSION and its runtime dependencies"
"${PIP[@]}" --target "$APP" -r "$WORK/requirements.txt"
"${PIP[@]}" --target "$APP" --no-deps "$ROOT"
# `orchestrator --version` prints the commit it was built from, as the original does.
COMMIT="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || true)"
if [ -n "$COMMIT" ]; then
  sed -i "s/^GIT_COMMIT = .*/GIT_COMMIT = \"$COMMIT\"/" "$APP/orchestrator_cli/__init__.py"
fi
# The CLI uses mysql-connector in pure-Python mode (use_pure=True) and SQLAlchemy only to deploy the
# schema, whose Cython speed-ups have pure-Python twins: no compiled code is needed, so the bundle
# runs on any architecture and zipimport can load all of it without extracting anything.
rm -rf "$APP/bin" "$APP/mysql/vendor" "$APP/mysqlx" "$APP/orchestrator_cli/sandbox"
# mysql-connector's asyncio driver, its Django backend and its `mysql.ai` helpers are separate
# packages that `mysql.connector` never imports and neither do we: 1.5 MiB and ~90 archive entries.
rm -rf "$APP/mysql/ai" "$APP/mysql/connector/aio" "$APP/mysql/connector/django"
# SQLAlchemy's test harness and the dialects of other databases are loaded only when asked for by
# name; leaving them out makes the archive's directory (read by zipimport at every start) smaller.
rm -rf "$APP/sqlalchemy/testing" "$APP/sqlalchemy/dialects/postgresql" "$APP/sqlalchemy/dialects/mssql" \
  "$APP/sqlalchemy/dialects/oracle"
# rich needs pygments only for syntax highlighting and tracebacks, and markdown-it (with mdurl) only for
# Markdown; the CLI renders neither. Together they are ~850 of the archive's ~2000 entries: zipimport
# parses the whole directory on every start (about 2 µs an entry), so a cron job paid ~2 ms for them.
rm -rf "$APP"/pygments "$APP"/pygments-*.dist-info "$APP"/markdown_it "$APP"/markdown_it_py-*.dist-info \
  "$APP"/mdurl "$APP"/mdurl-*.dist-info
find "$APP" \( -name '*.so' -o -name '*.so.*' -o -name '*.pyi' -o -name '*.pxd' -o -name '*.pyx' \) -delete
find "$APP" -name __pycache__ -prune -exec rm -rf {} +

# Man page and completions come from the registry of exactly the code being packaged.
GEN="$WORK/generated"
mkdir -p "$GEN"
PYTHONPATH="$APP" "$PYTHON" -m orchestrator_cli.cli.manpage -o "$GEN/orchestrator.1"
PYTHONPATH="$APP" "$PYTHON" -m orchestrator_cli.cli.completion bash -o "$GEN/orchestrator.bash"
PYTHONPATH="$APP" "$PYTHON" -m orchestrator_cli.cli.completion zsh -o "$GEN/_orchestrator"
# The in-tree copy is refreshed by the default build only (builds into other dirs leave the tree alone).
if [ "$OUT" = "$ROOT/dist" ]; then
  mkdir -p "$ROOT/man" && cp "$GEN/orchestrator.1" "$ROOT/man/orchestrator.1"
fi

if [ "$WITH_SERVICE" = 1 ]; then
  # fastapi, uvicorn and prometheus_client for `orchestrator http` (installed by the .deb under
  # /usr/lib/orchestrator/service); fetched before the executable is built, whose PyInstaller spec
  # reads them to bundle the standard-library modules they need.
  SERVICE_LIBS="$WORK/service"
  "$PYTHON" -c 'import sys, tomllib; print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["optional-dependencies"]["service"]))' \
    "$ROOT/pyproject.toml" > "$WORK/service-requirements.txt"
  "${PIP[@]}" --target "$SERVICE_LIBS" -r "$WORK/service-requirements.txt"
  rm -rf "$SERVICE_LIBS/bin"
  find "$SERVICE_LIBS" -name __pycache__ -prune -exec rm -rf {} +
fi

EXE="$OUT/orchestrator"
# $APP stays as vendored (sources only: the .deb installs it unpacked); the one-file builds work on a copy.
STAGE="$WORK/stage"
cp -a "$APP" "$STAGE"
cp "$ROOT/packaging/zipapp_main.py" "$STAGE/__main__.py"
if [ "$BUNDLE" = zipapp ]; then
  ARCH=all
  DEPENDS="python3 (>= 3.11)"
  # Legacy-layout, unchecked-hash .pyc next to each .py: zipimport uses them without stat-ing
  # sources, so nothing is compiled at run time on the matching Python (other versions fall
  # back to the .py files). Fails the build on any source this Python cannot compile.
  "$PYTHON" -m compileall -q -b --invalidation-mode unchecked-hash "$STAGE"
  "$PYTHON" -m zipapp "$STAGE" --compress --python "$SHEBANG" --output "$WORK/orchestrator.pyz"
  install -m 0755 "$WORK/orchestrator.pyz" "$EXE"
else
  ARCH="$(dpkg --print-architecture 2>/dev/null || uname -m)"
  DEPENDS=""
  VENV="$WORK/pyinstaller-venv"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check pyinstaller
  # SERVICE_DIR (--with-service): the spec adds the standard library those libraries import.
  (cd "$WORK" && APP_DIR="$STAGE" WORK_DIR="$WORK" SERVICE_DIR="${SERVICE_LIBS:-}" \
     "$VENV/bin/pyinstaller" --noconfirm --log-level WARN \
     --distpath "$WORK/pyinstaller-dist" --workpath "$WORK/pyinstaller-work" "$ROOT/packaging/orchestrator.spec")
  install -m 0755 "$WORK/pyinstaller-dist/orchestrator" "$EXE"
fi
echo "build.sh: $EXE ($(du -k "$EXE" | cut -f1) KiB, $BUNDLE)"

[ "$BUILD_DEB" = 1 ] || exit 0
command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb not found: install dpkg, or pass --no-deb"

PKG="$WORK/deb"
DOC="$PKG/usr/share/doc/orchestrator"
LIB="$PKG/usr/lib/orchestrator"
if [ "$BUNDLE" = zipapp ]; then
  # The zipapp's tree, unpacked, behind a five-line launcher: a directory on sys.path imports faster
  # than the zipapp (no runpy, no zipimport; about 7 ms less per cron run, packaging/README.md).
  # No .pyc is shipped: the postinst compiles the tree for the host's interpreter.
  install -d -m 0755 "$LIB"
  cp -a "$APP"/. "$LIB"/
  { echo "#!$SHEBANG"; tail -n +2 "$ROOT/packaging/deb_launcher.py"; } > "$WORK/launcher"
  install -D -m 0755 "$WORK/launcher" "$PKG/usr/bin/orchestrator"
else
  install -D -m 0755 "$EXE" "$PKG/usr/bin/orchestrator"
fi
install -D -m 0644 "$ROOT/packaging/orchestrator.conf.json" "$PKG/etc/orchestrator.conf.json"
install -d -m 0755 "$PKG/var/lib/orchestrator"
install -D -m 0644 "$GEN/orchestrator.bash" "$PKG/usr/share/bash-completion/completions/orchestrator"
install -D -m 0644 "$GEN/_orchestrator" "$PKG/usr/share/zsh/vendor-completions/_orchestrator"
install -d -m 0755 "$PKG/usr/share/man/man1"
gzip -9n < "$GEN/orchestrator.1" > "$PKG/usr/share/man/man1/orchestrator.1.gz"
install -D -m 0644 "$ROOT/docs/deployment.md" "$DOC/deployment.md"
# The service's unit, disabled: nothing enables or starts it (the maintainer scripts only byte-compile).
install -D -m 0644 "$ROOT/packaging/orchestrator.service" "$PKG/lib/systemd/system/orchestrator.service"
if [ "$WITH_SERVICE" = 1 ]; then
  # fastapi, uvicorn and prometheus_client for `orchestrator http`, outside the one-file executable
  # (pydantic-core is compiled): the package becomes specific to this architecture and Python.
  # (byte-compiled by the postinst with the rest of /usr/lib/orchestrator, removed by the prerm)
  install -d -m 0755 "$LIB"
  cp -a "$SERVICE_LIBS" "$LIB/service"
  ARCH="$(dpkg --print-architecture 2>/dev/null || uname -m)"
  PYVER="$("$PYTHON" -c 'import sys; print(sys.version_info[0], sys.version_info[1])')"
  DEPENDS="python3 (>= ${PYVER% *}.${PYVER#* }), python3 (<< ${PYVER% *}.$((${PYVER#* } + 1)))"
fi
install -d -m 0755 "$DOC"
"$PYTHON" "$ROOT/packaging/copyright.py" "$APP" > "$DOC/copyright"
for info in "$APP"/*.dist-info "$LIB/service"/*.dist-info; do
  [ -d "$info" ] || continue
  dest="$DOC/licenses/$(basename "$info" .dist-info)"
  find "$info" -type f \( -iname 'licen[cs]e*' -o -iname 'copying*' -o -iname 'notice*' -o -iname 'authors*' \) \
    -exec install -D -m 0644 -t "$dest" {} +
done
find "$PKG" -type d -exec chmod 0755 {} +
[ ! -d "$LIB" ] || find "$LIB" -type f -exec chmod 0644 {} +

install -d -m 0755 "$PKG/DEBIAN"
echo "/etc/orchestrator.conf.json" > "$PKG/DEBIAN/conffiles"
if [ -d "$LIB" ]; then
  # postinst byte-compiles /usr/lib/orchestrator with the interpreter the launcher runs; prerm removes
  # the __pycache__ directories again, so upgrades leave no stale .pyc and purge leaves nothing.
  sed "s|@PYTHON@|$INTERPRETER|g" "$ROOT/packaging/deb/postinst" > "$PKG/DEBIAN/postinst"
  cp "$ROOT/packaging/deb/prerm" "$ROOT/packaging/deb/postrm" "$PKG/DEBIAN/"
  chmod 0755 "$PKG/DEBIAN/postinst" "$PKG/DEBIAN/prerm" "$PKG/DEBIAN/postrm"
fi
{
  echo "Package: orchestrator"
  echo "Version: $VERSION"
  echo "Architecture: $ARCH"
  echo "Maintainer: orchestrator-cli maintainers <root@localhost>"
  echo "Installed-Size: $(du -sk --exclude=DEBIAN "$PKG" | cut -f1)"
  [ -z "$DEPENDS" ] || echo "Depends: $DEPENDS"
  echo "Section: admin"
  echo "Priority: optional"
  echo "Description: MySQL/MariaDB replication topology manager (orchestrator-compatible CLI)"
  echo " Discovers MySQL and MariaDB replication topologies, shows and refactors them, records"
  echo " promotion rules, downtime, maintenance locks, tags and pools, and analyses failures."
  echo " Command names, flags, output formats, configuration keys and backend schema follow"
  echo " the original orchestrator, so crontab entries and Puppet or Chef resources keep"
  echo " working. Ships the command, a man page, bash and zsh completion and a"
  echo " sample /etc/orchestrator.conf.json using an embedded SQLite backend, and a systemd unit"
  echo " (disabled) for 'orchestrator http', the API that orchestrator-client speaks."
} > "$PKG/DEBIAN/control"
(cd "$PKG" && find . \( -path ./DEBIAN -o -path ./etc \) -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$PKG/DEBIAN/md5sums"

DEB="$OUT/orchestrator_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$PKG" "$DEB" >/dev/null
echo "build.sh: $DEB ($(du -k "$DEB" | cut -f1) KiB)"
