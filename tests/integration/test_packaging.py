"""The shipped artefacts, built by packaging/build.sh exactly as a release is, run as cron runs them:
from an empty directory, with `env -i PATH=/usr/bin:/bin`, no virtualenv anywhere."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli import __version__
from orchestrator_cli.sandbox.topology import Sandbox

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "packaging" / "build.sh"
SYSTEM_PYTHON = Path("/usr/bin/python3")
CLEAN_ENV = {"PATH": "/usr/bin:/bin"}


def _system_python_ok() -> bool:
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return False
    probe = subprocess.run([str(SYSTEM_PYTHON), "-c", "import sys; sys.exit(sys.version_info < (3, 11))"], timeout=30)
    return probe.returncode == 0


def _pip_ok() -> bool:
    return subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, timeout=60).returncode == 0


pytestmark = [
    pytest.mark.skipif(shutil.which("bash") is None, reason="packaging/build.sh needs bash"),
    pytest.mark.skipif(not _pip_ok(), reason=f"the build vendors dependencies with pip, missing from {sys.executable}"),
    pytest.mark.skipif(
        not _system_python_ok(),
        reason="the one-file build needs /usr/bin/python3 >= 3.11, missing here (apt-get install python3)",
    ),
]


@dataclass
class Build:
    executable: Path
    deb: Path | None


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """One build per test run, shared by the xdist workers (it downloads wheels and takes tens of
    seconds): the first worker builds under a lock in the run's common temp dir, the others reuse it."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    out = shared / "packaging-dist"
    with open(shared / "packaging-dist.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = out / "build.ok"
        if not done.exists():
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            with_deb = shutil.which("dpkg-deb") is not None
            args = ["bash", str(BUILD_SCRIPT), "--out", str(out)] + ([] if with_deb else ["--no-deb"])
            env = {**os.environ, "PYTHON": sys.executable}
            proc = subprocess.run(args, capture_output=True, text=True, timeout=900, env=env, cwd=ROOT)
            assert proc.returncode == 0, f"build.sh failed:\n{proc.stdout}\n{proc.stderr}"
            done.write_text("ok\n")
    debs = sorted(out.glob("orchestrator_*.deb"))
    return Build(out / "orchestrator", debs[0] if debs else None)


def packaged_commands(build: Build, cwd: Path) -> set[str]:
    """The commands the built executable lists in `help` (its own registry, whatever the tree holds now)."""
    listing = run_clean(build.executable, "help", cwd=cwd)
    assert listing.returncode == 0, listing.stderr
    return set(re.findall(r"^\t(\S+)", listing.stdout, re.M))


def run_clean(executable: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run as cron would: empty environment, minimal PATH, a directory with nothing in it."""
    return subprocess.run([str(executable), *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=CLEAN_ENV)


def test_version_and_help_run_without_a_virtualenv(build: Build, tmp_path: Path) -> None:
    version = run_clean(build.executable, "--version", cwd=tmp_path)
    assert version.returncode == 0, version.stderr
    assert version.stdout.splitlines()[0] == __version__
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", version.stdout.splitlines()[1])

    listed = packaged_commands(build, tmp_path)
    assert {"discover", "topology", "register-candidate", "begin-downtime", "relocate"} <= listed

    topic = run_clean(build.executable, "help", "register-candidate", cwd=tmp_path)
    assert topic.returncode == 0 and topic.stdout.startswith("register-candidate: ")
    assert list(tmp_path.iterdir()) == []  # nothing unpacked or cached next to the user's files


def test_bundle_holds_pure_python_only_and_no_sandbox_cli(build: Build) -> None:
    with zipfile.ZipFile(build.executable) as bundle:
        names = bundle.namelist()
    assert "__main__.py" in names and "orchestrator_cli/cli/main.py" in names
    assert "sqlalchemy/__init__.py" in names and "mysql/connector/__init__.py" in names
    assert not [n for n in names if re.search(r"\.so(\.|$)", n)]
    assert not [n for n in names if n.startswith(("typer/", "click/", "orchestrator_cli/sandbox/"))]


def test_discover_and_topology_on_the_sandbox(
    build: Build, sandbox: Sandbox, sandbox_config: Path, tmp_path: Path
) -> None:
    master = sandbox.key(0)
    discovered = run_clean(
        build.executable, "--config", str(sandbox_config), "-c", "discover", "-i", master, cwd=tmp_path
    )
    assert discovered.returncode == 0, discovered.stderr
    assert discovered.stdout.strip() == master

    tree = run_clean(build.executable, "--config", str(sandbox_config), "-c", "topology", "-i", master, cwd=tmp_path)
    assert tree.returncode == 0, tree.stderr
    lines = tree.stdout.splitlines()
    assert lines[0].startswith(master + " ")
    assert sorted(line.split()[1] for line in lines[1:]) == sorted(sandbox.keys[1:])


def test_mysql_backend_schema_deploy_and_hints(build: Build, mysql_backend_db: dict[str, Any], tmp_path: Path) -> None:
    """The MySQL backend path from the bundle: SQLAlchemy's MySQL dialect over pure-Python mysql-connector."""
    config = tmp_path / "orchestrator.conf.json"
    config.write_text(json.dumps(mysql_backend_db))
    deployed = run_clean(build.executable, "--config", str(config), "-c", "redeploy-internal-db", cwd=tmp_path)
    assert deployed.returncode == 0, deployed.stderr
    key = "db1.example.com:3306"
    args = ["--config", str(config), "-c", "register-candidate", "-i", key, "--promotion-rule", "prefer_not"]
    registered = run_clean(build.executable, *args, cwd=tmp_path)
    assert registered.returncode == 0 and registered.stdout.strip() == key, registered.stderr
    rules = run_clean(build.executable, "--config", str(config), "-c", "bulk-promotion-rules", cwd=tmp_path)
    assert rules.returncode == 0 and rules.stdout.splitlines() == [f"{key} prefer_not"], rules.stderr


def test_cron_path_imports_no_heavy_library(build: Build, tmp_path: Path) -> None:
    """register-candidate on a deployed backend must not pay for SQLAlchemy, mysql-connector, rich or typer."""
    config = tmp_path / "orchestrator.conf.json"
    config.write_text(f'{{"BackendDB": "sqlite", "SQLite3DataFile": "{tmp_path / "o.sqlite3"}"}}')
    args = ["--config", str(config), "-c", "register-candidate", "-i", "db1.example.com:3306"]
    first = run_clean(build.executable, *args, cwd=tmp_path)  # deploys the schema (imports SQLAlchemy)
    assert first.returncode == 0, first.stderr
    traced = subprocess.run(
        [str(SYSTEM_PYTHON), "-X", "importtime", str(build.executable), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=CLEAN_ENV,
    )
    assert traced.returncode == 0 and traced.stdout.strip() == "db1.example.com:3306"
    imported = {line.split("|")[-1].strip() for line in traced.stderr.splitlines() if line.startswith("import time:")}
    assert "orchestrator_cli.backend.candidates" in imported
    heavy = {name for name in imported if name.split(".")[0] in ("sqlalchemy", "mysql", "rich", "typer", "click")}
    assert heavy == set()
    # standard modules a cron run does not need (each costs it milliseconds): see orchestrator_cli/logs.py
    assert imported.isdisjoint({"logging", "dataclasses", "inspect", "typing", "threading", "decimal"})


def test_debian_package_layout(build: Build, tmp_path: Path) -> None:
    if build.deb is None:
        pytest.skip("dpkg-deb is not installed: the Debian package was not built")
    assert build.deb.name == f"orchestrator_{__version__}_all.deb"
    field = subprocess.run(["dpkg-deb", "-f", str(build.deb)], capture_output=True, text=True, check=True).stdout
    assert "Package: orchestrator\n" in field and f"Version: {__version__}\n" in field
    assert "Depends: python3 (>= 3.11)" in field
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(build.deb), str(root)], check=True)
    control = tmp_path / "control"
    subprocess.run(["dpkg-deb", "-e", str(build.deb), str(control)], check=True)
    assert (control / "conffiles").read_text().split() == ["/etc/orchestrator.conf.json"]
    for path in (
        "usr/bin/orchestrator",
        "usr/lib/orchestrator/orchestrator_cli/cli/main.py",
        "usr/lib/orchestrator/orchestrator_cli/http/web/static/index.html",
        "usr/lib/orchestrator/sqlalchemy/__init__.py",
        "usr/lib/orchestrator/mysql/connector/__init__.py",
        "usr/share/man/man1/orchestrator.1.gz",
        "etc/orchestrator.conf.json",
        "usr/share/bash-completion/completions/orchestrator",
        "usr/share/zsh/vendor-completions/_orchestrator",
        "usr/share/doc/orchestrator/copyright",
        "usr/share/doc/orchestrator/deployment.md",
    ):
        assert (root / path).is_file(), path
    assert os.access(root / "usr/bin/orchestrator", os.X_OK)

    # The zipapp's tree, unpacked: sources only (the postinst compiles them for the host's python3 and
    # the prerm removes the caches again), the same pure-Python pruning, no sandbox CLI.
    launcher = (root / "usr/bin/orchestrator").read_text()
    assert launcher.startswith("#!/usr/bin/python3 -IS\n")
    assert 'sys.path.insert(0, "/usr/lib/orchestrator")' in launcher
    tree = root / "usr/lib/orchestrator"
    shipped = [p.relative_to(tree).as_posix() for p in tree.rglob("*")]
    assert not [n for n in shipped if n.endswith(".pyc") or "__pycache__" in n or re.search(r"\.so(\.|$)", n)]
    assert not [n for n in shipped if n.startswith(("typer", "click", "orchestrator_cli/sandbox", "__main__"))]
    postinst = (control / "postinst").read_text()
    assert "/usr/bin/python3 -I -m compileall" in postinst and "/usr/lib/orchestrator" in postinst
    assert "__pycache__" in (control / "prerm").read_text()

    # The packaged sample configuration loads, and selects SQLite.
    from orchestrator_cli.config import load_config

    sample = load_config(str(root / "etc/orchestrator.conf.json"))
    assert sample.is_sqlite and sample["SQLite3DataFile"] == "/var/lib/orchestrator/orchestrator.sqlite3"

    page = subprocess.run(
        ["gzip", "-dc", str(root / "usr/share/man/man1/orchestrator.1.gz")], capture_output=True, text=True, check=True
    ).stdout
    commands = page[page.index(".SH COMMANDS") : page.index(".SH CONFIGURATION")]
    documented = {name.replace("\\-", "-") for name in re.findall(r"^\.TP\n\.B (\S+)$", commands, re.M)}
    assert documented == packaged_commands(build, tmp_path)
    bash_check = subprocess.run(
        ["bash", "-n", str(root / "usr/share/bash-completion/completions/orchestrator")], capture_output=True
    )
    assert bash_check.returncode == 0
