"""The model's docstring examples (keys, coordinates, durations, GTID sets, coercion, ...) run as tests."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import orchestrator_cli.model

MODULES = sorted(
    f"orchestrator_cli.model.{info.name}" for info in pkgutil.iter_modules(orchestrator_cli.model.__path__)
)
# Modules whose parsers and value types must carry examples; a lost docstring would otherwise pass silently.
MUST_HAVE_EXAMPLES = {
    "orchestrator_cli.model.coerce",
    "orchestrator_cli.model.coordinates",
    "orchestrator_cli.model.durations",
    "orchestrator_cli.model.frozen",
    "orchestrator_cli.model.gtid",
    "orchestrator_cli.model.keys",
    "orchestrator_cli.model.threads",
}


@pytest.mark.parametrize("name", MODULES)
def test_model_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} doctest example(s) failed in {name}"
    if name in MUST_HAVE_EXAMPLES:
        assert result.attempted > 0, f"{name} lost its doctest examples"
