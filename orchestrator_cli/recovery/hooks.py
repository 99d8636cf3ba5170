"""External hook processes (`*Processes` config lists): placeholders, environment, timeouts, records.

Each hook string gets the original's `{placeholder}` substitution, is written to a temporary file and
run as `<ProcessesShellCommand> <file>` with the `ORC_*` variables added to the environment. A hook
whose text ends with `&` runs in the background and its outcome is not waited for. Every run is
recorded as a recovery step: the command, its exit code, how long it took and the tail of its
output, so `audit-recovery` shows what each hook did.

Our additions: `ProcessesTimeoutSeconds` (default 300) kills a hook that runs longer and counts as a
failure, so a hung script cannot stall a failover forever.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestrator_cli.model.keys import InstanceKey

log = logging.getLogger("orchestrator.recovery")

DEFAULT_TIMEOUT_SECONDS = 300
OUTPUT_TAIL_CHARS = 2000

Record = Callable[[str], None]


def _bool(value: bool) -> str:
    return "true" if value else "false"


@dataclass
class HookContext:
    """What the hooks are told about a failure and its recovery."""

    failure_type: str
    instance_type: str
    is_master: bool
    is_co_master: bool
    failure_description: str
    failed: InstanceKey
    cluster: str
    cluster_alias: str
    cluster_domain: str
    replicas: Sequence[str]
    is_downtimed: bool
    auto_master_recovery: bool
    auto_intermediate_master_recovery: bool
    orchestrator_host: str
    command: str = ""
    recovery_uid: str = ""
    is_successful: bool = False
    lost: Sequence[str] = field(default_factory=list)
    successor: InstanceKey | None = None
    successor_alias: str = ""
    successor_binlog_coordinates: str = ""

    def placeholders(self) -> dict[str, str]:
        """`{name}` → value; successor placeholders only when there is a successor (otherwise the
        text stays as written, as in the original)."""
        values = {
            "failureType": self.failure_type,
            "instanceType": self.instance_type,
            "isMaster": _bool(self.is_master),
            "isCoMaster": _bool(self.is_co_master),
            "failureDescription": self.failure_description,
            "command": self.command,
            "failedHost": self.failed.hostname,
            "failedPort": str(self.failed.port),
            "failureCluster": self.cluster,
            "failureClusterAlias": self.cluster_alias,
            "failureClusterDomain": self.cluster_domain,
            "countReplicas": str(len(self.replicas)),
            "countSlaves": str(len(self.replicas)),
            "isDowntimed": _bool(self.is_downtimed),
            "autoMasterRecovery": _bool(self.auto_master_recovery),
            "autoIntermediateMasterRecovery": _bool(self.auto_intermediate_master_recovery),
            "orchestratorHost": self.orchestrator_host,
            "recoveryUID": self.recovery_uid,
            "isSuccessful": _bool(self.is_successful),
            "lostReplicas": ",".join(self.lost),
            "lostSlaves": ",".join(self.lost),
            "countLostReplicas": str(len(self.lost)),
            "replicaHosts": ",".join(self.replicas),
            "slaveHosts": ",".join(self.replicas),
        }
        if self.successor is not None:
            values.update(
                successorHost=self.successor.hostname,
                successorPort=str(self.successor.port),
                successorAlias=self.successor_alias,
            )
            if self.successor_binlog_coordinates:
                values["successorBinlogCoordinates"] = self.successor_binlog_coordinates
        return values

    def environment(self) -> dict[str, str]:
        env = {
            "ORC_FAILURE_TYPE": self.failure_type,
            "ORC_INSTANCE_TYPE": self.instance_type,
            "ORC_IS_MASTER": _bool(self.is_master),
            "ORC_IS_CO_MASTER": _bool(self.is_co_master),
            "ORC_FAILURE_DESCRIPTION": self.failure_description,
            "ORC_COMMAND": self.command,
            "ORC_FAILED_HOST": self.failed.hostname,
            "ORC_FAILED_PORT": str(self.failed.port),
            "ORC_FAILURE_CLUSTER": self.cluster,
            "ORC_FAILURE_CLUSTER_ALIAS": self.cluster_alias,
            "ORC_FAILURE_CLUSTER_DOMAIN": self.cluster_domain,
            "ORC_COUNT_REPLICAS": str(len(self.replicas)),
            "ORC_IS_DOWNTIMED": _bool(self.is_downtimed),
            "ORC_AUTO_MASTER_RECOVERY": _bool(self.auto_master_recovery),
            "ORC_AUTO_INTERMEDIATE_MASTER_RECOVERY": _bool(self.auto_intermediate_master_recovery),
            "ORC_ORCHESTRATOR_HOST": self.orchestrator_host,
            "ORC_IS_SUCCESSFUL": _bool(self.is_successful),
            "ORC_LOST_REPLICAS": ",".join(self.lost),
            "ORC_REPLICA_HOSTS": ",".join(self.replicas),
            "ORC_RECOVERY_UID": self.recovery_uid,
        }
        if self.successor is not None:
            env.update(
                ORC_SUCCESSOR_HOST=self.successor.hostname,
                ORC_SUCCESSOR_PORT=str(self.successor.port),
                ORC_SUCCESSOR_ALIAS=self.successor_alias,
            )
            if self.successor_binlog_coordinates:
                env["ORC_SUCCESSOR_BINLOG_COORDINATES"] = self.successor_binlog_coordinates
        return env


def substitute(command: str, values: Mapping[str, str]) -> str:
    """Plain-text replacement of every `{name}` we know; unknown braces are left alone."""
    for name, value in values.items():
        command = command.replace("{" + name + "}", value)
    return command


@dataclass
class HookResult:
    hook_list: str
    index: int
    command: str
    exit_code: int | None
    seconds: float
    output: str = ""
    background: bool = False
    timed_out: bool = False
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.background or (self.exit_code == 0 and not self.timed_out and not self.error)

    def describe(self) -> str:
        head = f"{self.hook_list}[{self.index}] {self.command!r}"
        if self.background:
            return f"{head}: started in the background"
        if self.error:
            return f"{head}: could not run: {self.error}"
        if self.timed_out:
            outcome = f"killed after {self.seconds:.1f}s (ProcessesTimeoutSeconds)"
        else:
            outcome = f"exit {self.exit_code} in {self.seconds:.2f}s"
        output = self.output.strip()
        return f"{head}: {outcome}" + (f"; output: {output}" if output else "")


@dataclass
class HookOutcome:
    results: list[HookResult]

    @property
    def failed(self) -> list[HookResult]:
        return [r for r in self.results if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.failed

    def first_error(self) -> str:
        failed = self.failed
        return failed[0].describe() if failed else ""


def _shell(config: Mapping[str, Any]) -> list[str]:
    shell = str(config.get("ProcessesShellCommand") or "bash")
    return shlex.split(shell) or ["bash"]


def _timeout(config: Mapping[str, Any]) -> float:
    try:
        value = float(config.get("ProcessesTimeoutSeconds") or DEFAULT_TIMEOUT_SECONDS)
    except (TypeError, ValueError):
        value = DEFAULT_TIMEOUT_SECONDS
    return value if value > 0 else DEFAULT_TIMEOUT_SECONDS


def _tail(data: bytes | str | None) -> str:
    if data is None:
        return ""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return text[-OUTPUT_TAIL_CHARS:]


def _script(command: str) -> str:
    fd, path = tempfile.mkstemp(prefix="orchestrator-process-", suffix=".sh")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(command + "\n")
    return path


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError as e:
        log.debug("cannot remove hook script %s: %s", path, e)


def run_one(
    hook_list: str,
    index: int,
    command: str,
    env: Mapping[str, str],
    config: Mapping[str, Any],
    args: Sequence[str] = (),
) -> HookResult:
    """Run one already-substituted hook command (`args`: its positional arguments, `$1`...)."""
    background = command.rstrip().endswith("&")
    text = command.rstrip()[:-1].rstrip() if background else command
    started = time.monotonic()
    path = _script(text)
    argv = [*_shell(config), path, *args]
    full_env = {**os.environ, **env}
    if background:
        try:
            proc = subprocess.Popen(
                argv, env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        except OSError as e:
            _remove(path)
            return HookResult(hook_list, index, text, None, 0.0, error=str(e))

        def reap() -> None:
            proc.wait()
            _remove(path)

        threading.Thread(target=reap, daemon=True).start()
        return HookResult(hook_list, index, text, None, 0.0, background=True)
    try:
        proc_result = subprocess.run(
            argv, env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=_timeout(config), check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as e:
        return HookResult(
            hook_list, index, text, None, time.monotonic() - started, output=_tail(e.output), timed_out=True
        )
    except OSError as e:
        return HookResult(hook_list, index, text, None, time.monotonic() - started, error=str(e))
    finally:
        _remove(path)
    return HookResult(
        hook_list, index, text, proc_result.returncode, time.monotonic() - started, output=_tail(proc_result.stdout)
    )


def run_hooks(
    config: Mapping[str, Any],
    hook_list: str,
    context: HookContext,
    record: Record,
    *,
    fail_fast: bool,
) -> HookOutcome:
    """Run every command of the `hook_list` config key in order.

    `fail_fast` (OnFailureDetection, Pre* hooks): stop at the first failure. Otherwise every command
    runs and the failures are reported together.
    """
    commands = [str(c) for c in (config.get(hook_list) or []) if str(c).strip()]
    results: list[HookResult] = []
    if not commands:
        return HookOutcome(results)
    values = context.placeholders()
    env = context.environment()
    for index, raw in enumerate(commands):
        result = run_one(hook_list, index, substitute(raw.strip(), values), env, config)
        results.append(result)
        record(result.describe())
        if not result.ok:
            log.error("%s", result.describe())
            if fail_fast:
                break
    return HookOutcome(results)


TAKE_MASTER_HOOKS = "PostTakeMasterProcesses"


def run_take_master_hooks(
    config: Mapping[str, Any], successor: InstanceKey, demoted: InstanceKey, record: Record
) -> HookOutcome:
    """`PostTakeMasterProcesses` after a successful take-master, as the original runs them: no
    placeholder substitution, `ORC_SUCCESSOR_HOST` / `ORC_FAILED_HOST` set to `host:port` of the new
    and the demoted master, and those two keys as the positional arguments `$1` and `$2`. Every
    command runs; a failure is reported and does not undo the take-master."""
    commands = [str(c) for c in (config.get(TAKE_MASTER_HOOKS) or []) if str(c).strip()]
    env = {"ORC_SUCCESSOR_HOST": str(successor), "ORC_FAILED_HOST": str(demoted)}
    results: list[HookResult] = []
    for index, raw in enumerate(commands):
        result = run_one(TAKE_MASTER_HOOKS, index, raw.strip(), env, config, args=(str(successor), str(demoted)))
        results.append(result)
        record(result.describe())
        if not result.ok:
            log.error("%s", result.describe())
    return HookOutcome(results)
