"""What every command shares: the one place errors become one-line ``error:`` messages with a non-zero
exit, and the one logging setup.

    run(main)                     # in a script: main(argv) -> exit status; bad input -> "error: ..."
    call(main, argv)              # the same, returning the exit status instead of exiting (tests)

Set ``BABYAI_DEBUG=1`` to get the traceback of a user error instead of its one line.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence

LOG_FORMAT = "%(asctime)s %(message)s"
LOG_TIME = "%H:%M:%S"


class UserError(Exception):
    """A bad input a command found itself (a clear message, exit code ``code``)."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def user_error_code(error: BaseException, extra: tuple[type[BaseException], ...] = ()) -> int | None:
    """The exit code of an error bad input causes (unknown level, corrupt dataset, model, suites, vocabulary,
    missing optional package, ...); None for anything else, which is a bug and keeps its traceback."""
    from babyai.agent import CheckpointError, ModelError, VocabularyError
    from babyai.demos.format import DemoFormatError
    from babyai.evaluate.render import MissingDependency
    from babyai.evaluate.suites import SuiteError
    from babyai.levels import UnknownLevelError
    from babyai.locks import LockError
    from babyai.storage import StorageNameError
    from babyai.train.data import DatasetError
    from babyai.train.run import RunExistsError

    table = ((UserError, getattr(error, "code", 2)), (extra, 2), (MissingDependency, 3), (UnknownLevelError, 2),
             (DemoFormatError, 1), (FileNotFoundError, 1), (ModelError, 2), (SuiteError, 2), (VocabularyError, 2),
             (DatasetError, 2), (CheckpointError, 2), (RunExistsError, 2), (LockError, 1), (StorageNameError, 2), (FileExistsError, 1))
    return next((code for kind, code in table if kind and isinstance(error, kind)), None)


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def disk_full(error: BaseException | None) -> OSError | None:
    """The full-disk (or quota) OSError behind ``error`` (itself, what it was raised from, or one its message
    quotes, as torch.save's RuntimeError does), else None."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, OSError) and error.errno in DISK_FULL:
            return error
        quoted = next((code for code in DISK_FULL if f"[Errno {code}]" in str(error)), None)
        if quoted is not None:
            return OSError(quoted, os.strerror(quoted))
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def disk_full_message(error: OSError) -> str:
    where = f" writing {error.filename}" if error.filename else ""
    return (f"no space left on the device{where}: nothing was left looking complete; free some space, "
            "then run the same command again")


def call(main: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None,
         extra: tuple[type[BaseException], ...] = ()) -> int:
    """``main(argv)``'s exit status; a user error (or one of ``extra``) prints ``error: ...`` on one line."""
    try:
        return main(argv) or 0
    except BrokenPipeError:  # output piped into a reader that stopped (e.g. `| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return 130
    except Exception as error:
        full = disk_full(error)
        code = 1 if full else user_error_code(error, extra)
        if code is None or os.environ.get("BABYAI_DEBUG"):
            raise
        message = disk_full_message(full) if full else str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"error: {message}", file=sys.stderr)
        return code


def run(main, argv: Sequence[str] | None = None, extra: tuple[type[BaseException], ...] = ()) -> None:
    """Exit with ``call(main, argv, extra)``: what a script's ``if __name__ == "__main__"`` does."""
    sys.exit(call(main, sys.argv[1:] if argv is None else argv, extra))


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes, not the one at set-up: a caller that swaps
    stderr and closes its stand-in (a test's capture, a notebook cell) leaves no handler on a closed file."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _):
        pass


def setup_logging(log_dir: str | None = None, name: str = "log", *, logger: str = "", file: str | None = None,
                  stream=None, enabled: bool = True) -> logging.Logger:
    """Log INFO (WARNING only, when not ``enabled``) of ``logger`` (the root by default) to ``stream``
    (stderr by default) and to a file: ``file``, or ``<log_dir>/<name>_<time>.txt`` when a folder is given.

    Calling it again replaces the handlers an earlier call added; a named logger stops propagating.
    """
    log = logging.getLogger(logger)
    for handler in [h for h in log.handlers if getattr(h, "babyai", False)]:
        log.removeHandler(handler)
        handler.close()
    log.setLevel(logging.INFO if enabled else logging.WARNING)
    log.propagate = not logger
    if log_dir and not file:
        os.makedirs(log_dir, exist_ok=True)
        file = os.path.join(log_dir, f"{name}{time.strftime('_%m-%d-%H-%M-%S')}.txt")
    handlers = [_StderrHandler() if stream is None else logging.StreamHandler(stream)]
    if file and enabled:
        handlers.append(logging.FileHandler(file))
    for handler in handlers:
        handler.babyai = True
        handler.setFormatter(logging.Formatter(LOG_FORMAT, LOG_TIME))
        log.addHandler(handler)
    return log


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds ``(default: X)`` to a flag's help unless the help already says its default, or the
    default is None or False (an optional value, an off switch)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or any(action.default is v for v in (None, False, argparse.SUPPRESS)):
            return text
        return super()._get_help_string(action)
