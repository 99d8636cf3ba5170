"""The generated man page documents exactly what the registry, the flag table and the config code define."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from orchestrator_cli.cli.flags import FLAGS
from orchestrator_cli.cli.manpage import UNNAMED_SECTION, honoured_config_keys, main, render_manpage
from orchestrator_cli.commands import registry
from orchestrator_cli.config_keys import KEYS


@pytest.fixture(scope="module")
def page() -> str:
    return render_manpage()


def _section(page: str, name: str) -> str:
    """Text of one `.SH name` section, up to the next `.SH`."""
    match = re.search(rf"^\.SH {re.escape(name)}\n(.*?)(?=^\.SH |\Z)", page, re.S | re.M)
    assert match, f"no .SH {name} section"
    return match.group(1)


def _tagged_names(text: str) -> list[str]:
    """The bold tags of `.TP` paragraphs (`.TP` then `.B name`), hyphens unescaped."""
    return [m.replace("\\-", "-") for m in re.findall(r"^\.TP\n\.BI? \"?([^\s\"]+)", text, re.M)]


def test_commands_section_lists_exactly_the_registry(page: str) -> None:
    documented = _tagged_names(_section(page, "COMMANDS"))
    assert sorted(documented) == sorted(cmd.name for cmd in registry.all_commands())
    assert len(documented) == len(set(documented))


def test_commands_are_grouped_by_section_in_registry_order(page: str) -> None:
    commands = _section(page, "COMMANDS")
    titles = [title.replace("\\-", "-") for title in re.findall(r'^\.SS "(.*)"$', commands, re.M)]
    assert titles == [section or UNNAMED_SECTION for section, _ in registry.sections()]
    for (section, members), chunk in zip(
        registry.sections(), re.split(r"^\.SS .*$", commands, flags=re.M)[1:], strict=True
    ):
        assert _tagged_names(chunk) == [cmd.name for cmd in members], section


def test_every_synonym_is_named_next_to_its_command(page: str) -> None:
    text = page.replace("\\-", "-")
    for synonym, target in registry.synonyms().items():
        block = re.search(rf"^\.B {re.escape(target)}\n(.*?)(?=^\.TP|^\.SS|^\.SH)", text, re.S | re.M)
        assert block and f"\\fB{synonym}\\fR" in block.group(1), f"{synonym} not shown under {target}"


def test_options_section_lists_every_flag(page: str) -> None:
    documented = _tagged_names(_section(page, "OPTIONS"))
    assert documented == [("-" if len(name) == 1 else "--") + name for name in FLAGS]


def test_configuration_section_lists_the_honoured_keys(page: str) -> None:
    documented = re.findall(r"^\.TP\n\.B (\w+)$", _section(page, "CONFIGURATION"), re.M)
    assert documented == honoured_config_keys()
    assert {"BackendDB", "SQLite3DataFile", "MySQLTopologyUser", "CandidateInstanceExpireMinutes"} <= set(documented)


def test_honoured_keys_come_from_literals_outside_the_key_table(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sandbox").mkdir(parents=True)
    (package / "config_keys.py").write_text("KEYS = {'GraphiteAddr': 1, 'ConsulAddress': 2}\n")
    (package / "sandbox" / "topology.py").write_text("cfg['GraphitePath']\n")
    (package / "reader.py").write_text("config.get('AuditLogFile')\nconfig[\"InstancePollSeconds\"]\n")
    (package / "config.py").write_text(
        'for prefix in ("MySQLOrchestrator", "Other"):\n    v[f"{prefix}CredentialsConfigFile"]\n'
    )
    assert honoured_config_keys(package) == [
        key for key in KEYS if key in {"AuditLogFile", "InstancePollSeconds", "MySQLOrchestratorCredentialsConfigFile"}
    ]


def test_troff_escapes_keep_user_text_literal(page: str) -> None:
    """Registry text is escaped: every hyphen an ASCII minus (copy-pasteable flags), ASCII only, and no
    line that troff would take for an unknown request."""
    generated = _section(page, "COMMANDS") + _section(page, "OPTIONS") + _section(page, "CONFIGURATION")
    assert re.findall(r"(?<!\\)-", generated) == []
    assert all(ord(ch) < 128 for ch in page)
    for line in page.splitlines():
        if line.startswith(".") and not line.startswith(('.\\"', ".\\&")):
            assert re.match(r"^\.(TH|SH|SS|TP|PP|RS|RE|B|BI|BR|I|nf|fi|br)\b", line), line


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
def test_page_renders_without_groff_warnings(tmp_path: Path) -> None:
    source = tmp_path / "orchestrator.1"
    assert main(["-o", str(source)]) == 0
    proc = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", "-z", str(source)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stderr == ""
    rendered = subprocess.run(["groff", "-man", "-Tascii", str(source)], capture_output=True, text=True, timeout=60)
    text = re.sub(r".\x08", "", rendered.stdout)
    assert "register-candidate" in text and "--promotion-rule" in text


def test_checked_in_page_is_the_generated_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """man/orchestrator.1 is regenerated whenever the registry, the flags or the help text change."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    checked_in = Path(__file__).resolve().parents[2] / "man" / "orchestrator.1"
    assert checked_in.read_text(encoding="utf-8") == render_manpage(), (
        "regenerate it: python -m orchestrator_cli.cli.manpage -o man/orchestrator.1"
    )
