"""Loggers that import the standard `logging` package only when a record can be emitted.

`logging` (with `traceback`, `string`, `weakref`) costs about 6 ms to import, a fifth of what a cron
job such as `register-candidate` should cost in all, while such a run at the default level emits
nothing. The CLI states its level with :func:`configure`; until a record at or above it is logged, or
until anything else imports `logging`, nothing is imported. Library use (the daemon, tests) is
unaffected: before `configure` every record is forwarded, and once `logging` is loaded by anyone the
real loggers decide as usual.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from typing import Any

DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40

_threshold = 0  # records below it are dropped while `logging` is not loaded; 0: forward everything
_pending: int | None = None  # the level the CLI asked for, set up on first use


def configure(level: int) -> None:
    """The CLI's level: records go to stderr as "date level message" from `level` up.

    Below ERROR (--verbose, --debug) the handler is installed now: records are wanted, and modules that
    use `logging` directly get the same format. At ERROR it is installed when the first record passes,
    or by :func:`install_if_loaded`, or now if `logging` is already loaded.
    """
    global _threshold, _pending
    _threshold = level
    _pending = level
    if level < ERROR or "logging" in sys.modules:
        _install()
    elif _InstallWhenImported not in sys.meta_path:
        sys.meta_path.insert(0, _InstallWhenImported)


def install_if_loaded() -> None:
    """Install the CLI's handler if something has imported `logging` (a command module, a driver)."""
    if _pending is not None and "logging" in sys.modules:
        _install()


class _InstallWhenImported:
    """A meta-path finder that only watches for `import logging`: once the real module is loaded
    (by a module that logs through it directly, a driver, the service), the CLI's handler and level
    are installed before anything can log through it."""

    @classmethod
    def find_spec(cls, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "logging":
            return None
        if cls in sys.meta_path:
            sys.meta_path.remove(cls)
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find is not None else None
            if spec is not None and spec.loader is not None:
                spec.loader = _ThenInstall(spec.loader)
                return spec
        return None


class _ThenInstall:
    """Wraps the `logging` loader: runs it, then installs the CLI's handler."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> Any:  # get_source, is_package, ...: the real loader's
        return getattr(self._loader, name)

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        sys.modules[module.__name__] = module  # `_install` imports it by name
        _install()


def set_level(level: int) -> None:
    """Lower (or raise) the CLI's level after `configure` (the config's `Debug`)."""
    global _threshold, _pending
    _threshold = level
    if _pending is not None:
        _pending = level
        if level < ERROR:
            _install()
    if "logging" in sys.modules:
        import logging

        logging.getLogger("orchestrator").setLevel(level)


def service_level(debug: bool, quiet: bool) -> int:
    """The level of a long-running process (`orchestrator http`): INFO by default, so that start, stop,
    leadership, recoveries, audited changes and refusals are in its log; DEBUG with --debug; ERROR with
    --quiet. A cron command stays at ERROR: it reports through its exit code and one stderr line.

    >>> service_level(False, False) == INFO, service_level(True, False) == DEBUG, service_level(False, True) == ERROR
    (True, True, True)
    """
    if quiet:
        return ERROR
    return DEBUG if debug else INFO


def share_handler(name: str, level: int) -> None:
    """Log another package's records (`name`, e.g. uvicorn's) through the same handler and format as
    orchestrator's own, from `level` up. Installs the handler first if :func:`configure` asked for one."""
    import logging

    _install()
    ours = logging.getLogger("orchestrator")
    other = logging.getLogger(name)
    other.handlers[:] = list(ours.handlers)
    other.setLevel(level)
    other.propagate = not ours.handlers  # without a handler of ours (library use), leave it to the root's


def _install() -> None:
    global _pending
    if _pending is None:
        return
    level, _pending = _pending, None
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    root = logging.getLogger("orchestrator")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


class Logger:
    """The subset of `logging.Logger` the project uses, resolved to a real logger on first emit."""

    __slots__ = ("name", "_real")

    def __init__(self, name: str) -> None:
        self.name = name
        self._real: Any = None

    def _logger(self) -> Any:
        _install()
        if self._real is None:
            import logging

            self._real = logging.getLogger(self.name)
        return self._real

    def _emit(self, level: int, msg: object, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if level < _threshold and "logging" not in sys.modules:
            return
        kwargs.setdefault("stacklevel", 3)
        self._logger().log(level, msg, *args, **kwargs)

    def debug(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self._emit(DEBUG, msg, args, kwargs)

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self._emit(INFO, msg, args, kwargs)

    def warning(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self._emit(WARNING, msg, args, kwargs)

    def error(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self._emit(ERROR, msg, args, kwargs)

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802  (logging's spelling)
        if level < _threshold and "logging" not in sys.modules:
            return False
        return bool(self._logger().isEnabledFor(level))


def getLogger(name: str) -> Logger:  # noqa: N802  (a drop-in for logging.getLogger)
    return Logger(name)
