"""Integration-test helpers on top of the sandbox fixtures in ``tests/conftest.py``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def _wait_until(
    predicate: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.1, message: str = ""
) -> T:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout`` seconds.

    Failure detection and recovery are asynchronous, so assertions about them must poll.
    """
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s: {message or predicate!r} (last value {last!r})")
        time.sleep(interval)


@pytest.fixture
def wait_until() -> Callable[..., object]:
    """``wait_until(predicate, timeout=30, interval=0.1, message="")`` → the first truthy result."""
    return _wait_until
