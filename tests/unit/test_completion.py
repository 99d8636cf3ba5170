"""Shell completion, driven through real bash (and zsh where installed) against the registry's names."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from orchestrator_cli.cli.completion import OUTPUT_FORMATS, flag_word, main, render
from orchestrator_cli.cli.flags import FLAGS
from orchestrator_cli.commands import registry
from orchestrator_cli.model.promotion import CLI_RULES

BASH = shutil.which("bash")
ZSH = shutil.which("zsh")


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("completion") / "orchestrator"
    assert main(["bash", "-o", str(path)]) == 0
    return path


def complete(script: Path, *words: str) -> list[str]:
    """COMPREPLY of `_orchestrator` for the command line `orchestrator words...` (cursor on the last word)."""
    assert BASH is not None
    program = (
        'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); '
        '_orchestrator; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    proc = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", program, "bash", str(script), "orchestrator", *words],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return [line for line in proc.stdout.splitlines() if line]


def names_starting(prefix: str) -> list[str]:
    return sorted(name for name in registry.accepted_names() if name.startswith(prefix))


pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed")


@pytest.mark.parametrize("prefix", ["rel", "reg", "which-c", "begin-"])
def test_command_after_dash_c_completes_to_the_registry_names(bash_script: Path, prefix: str) -> None:
    assert sorted(complete(bash_script, "-c", prefix)) == names_starting(prefix)


def test_relocate_completes_once_registered(bash_script: Path) -> None:
    if registry.lookup("relocate") is None:
        pytest.skip("relocate is not registered in this tree yet; the 'rel' prefix case above still checks completion")
    assert "relocate" in complete(bash_script, "-c", "rel")


def test_command_values_include_synonyms(bash_script: Path) -> None:
    synonyms = registry.synonyms()
    if not synonyms:
        pytest.skip("no legacy synonyms registered")
    for synonym in synonyms:
        assert synonym in complete(bash_script, "--c", synonym[:-1]), synonym


def test_all_command_names_offered_for_an_empty_word(bash_script: Path) -> None:
    assert sorted(complete(bash_script, "--verbose", "-c", "")) == sorted(registry.accepted_names())


def test_flags_complete_in_both_spellings(bash_script: Path) -> None:
    assert complete(bash_script, "--pro") == ["--promotion-rule"]
    assert complete(bash_script, "-ali") == ["-alias"]
    assert sorted(complete(bash_script, "-c", "topology", "-")) == sorted(flag_word(name) for name in FLAGS)


def test_flag_values_for_rule_and_format(bash_script: Path) -> None:
    assert sorted(complete(bash_script, "--promotion-rule", "")) == sorted(CLI_RULES)
    assert complete(bash_script, "-promotion-rule", "prefer_") == ["prefer_not"]
    assert sorted(complete(bash_script, "--format", "")) == sorted(OUTPUT_FORMATS)
    # `--format=j` as one word, and as bash splits it when '=' is a word break.
    assert complete(bash_script, "--format=j") == ["--format=json"]
    assert complete(bash_script, "--format", "=", "j") == ["json"]
    assert sorted(complete(bash_script, "--format", "=")) == sorted(OUTPUT_FORMATS)


def test_value_of_a_flag_is_not_taken_for_a_positional_word(bash_script: Path) -> None:
    assert complete(bash_script, "--reason", "help", "-c", "reg") == names_starting("reg")
    assert complete(bash_script, "--reason", "x", "he") == ["help"]


def test_help_topics_after_help(bash_script: Path) -> None:
    assert sorted(complete(bash_script, "help", "reg")) == [n for n in names_starting("reg") if n != "help"]
    assert complete(bash_script, "help", "topology", "") == []


def test_help_topics_after_dash_c_help(bash_script: Path) -> None:
    """`orchestrator -c help relocate` answers with relocate's help, so its word completes to topics."""
    topics = [n for n in names_starting("reloc") if n != "help"]
    assert sorted(complete(bash_script, "-c", "help", "reloc")) == topics
    assert sorted(complete(bash_script, "--c=help", "reloc")) == topics
    assert complete(bash_script, "-c", "topology", "reloc") == []  # not after another command


def test_config_completes_file_names(bash_script: Path, tmp_path: Path) -> None:
    (tmp_path / "orch.conf.json").write_text("{}")
    assert complete(bash_script, "--config", str(tmp_path / "orch.")) == [str(tmp_path / "orch.conf.json")]


def test_unknown_shell_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown shell"):
        render("fish")


@pytest.mark.skipif(ZSH is None, reason="zsh is not installed (apt-get install zsh)")
def test_zsh_script_parses_and_offers_registry_names(tmp_path: Path) -> None:
    assert ZSH is not None
    script = tmp_path / "_orchestrator"
    assert main(["zsh", "-o", str(script)]) == 0
    subprocess.run([ZSH, "-n", str(script)], check=True, timeout=30)
    assert script.read_text().startswith("#compdef orchestrator\n")
    # Stand-ins for the completion system's builtins record what the script hands them.
    harness = (
        'specs_out="$2"\n'
        '_arguments() { print -rl -- "$@" > "$specs_out" }\n'
        '_describe() { print -rl -- "${(@P)4}" }\n'
        'source "$1"\n'
        "_orchestrator_commands\n"
    )
    specs_file = tmp_path / "specs"
    proc = subprocess.run(
        [ZSH, "-f", "-c", harness, "zsh", str(script), str(specs_file)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    offered = [line.split(":", 1)[0] for line in proc.stdout.splitlines()]
    assert sorted(offered) == sorted(registry.accepted_names())
    specs = specs_file.read_text().splitlines()
    for name in FLAGS:
        assert any(spec.startswith(flag_word(name) + "[") for spec in specs), name
    rule_spec = next(spec for spec in specs if spec.startswith("--promotion-rule["))
    assert rule_spec.endswith(f"({' '.join(CLI_RULES)})")
    format_spec = next(spec for spec in specs if spec.startswith("--format["))
    assert format_spec.endswith(f"({' '.join(OUTPUT_FORMATS)})")
