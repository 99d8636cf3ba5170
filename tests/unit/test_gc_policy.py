"""The CLI runs one-shot commands with the cyclic garbage collector off (it only slowed start-up down)
and turns it back on for runs that last until stopped."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator_cli.cli import main as cli_main
from tests.support import sqlite_config


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    try:
        yield
    finally:
        (gc.enable if enabled else gc.disable)()


def test_a_one_shot_run_leaves_the_collector_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gc.enable()
    monkeypatch.setattr(sys, "argv", ["orchestrator", "--version"])
    with pytest.raises(SystemExit) as exit_:
        cli_main.entry()
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("0.")
    assert not gc.isenabled()


def test_continuous_turns_the_collector_back_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gc.disable()
    config = sqlite_config(tmp_path)
    # --noop is refused by the command itself, after dispatch: nothing runs, yet the policy applied.
    code = cli_main.main([f"--config={config}", "--noop", "-c", "continuous"])
    assert code != 0
    assert "noop" in capsys.readouterr().err
    assert gc.isenabled()


def test_a_one_shot_command_does_not_turn_it_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gc.disable()
    config = sqlite_config(tmp_path)
    assert cli_main.main([f"--config={config}", "-c", "clusters"]) == 0
    assert not gc.isenabled()
