"""What every script shares: one-line errors with a non-zero exit, logging setup."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from babyai.demos.format import DemoFormatError
from babyai.levels import UnknownLevelError
from babyai.locks import LockError
from babyai.storage import StorageNameError

# errors a user can cause (bad input), mapped to exit codes; anything else is a bug: traceback
USER_ERRORS = {UnknownLevelError: 2, DemoFormatError: 1, FileNotFoundError: 1, LockError: 1,
               StorageNameError: 2}


class UserError(Exception):
    """A bad input a script found itself (a clear message, exit code ``code``)."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def run(main, argv=None) -> None:
    """Call ``main(argv)``; a user error prints ``error: ...`` on one line and exits non-zero."""
    try:
        code = main(argv)
    except BrokenPipeError:  # output piped into a reader that stopped (e.g. `| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        sys.exit(130)
    except tuple(USER_ERRORS) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"error: {message}", file=sys.stderr)
        sys.exit(USER_ERRORS[next(t for t in USER_ERRORS if isinstance(error, t))])
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.code)
    sys.exit(code or 0)


def setup_logging(log_dir: str | None = None, name: str = "log") -> None:
    """Log INFO to stderr, and to ``<log_dir>/<name>_<time>.txt`` when a folder is given."""
    fmt = "%(asctime)s: %(levelname)s: %(message)s"
    logging.basicConfig(level=logging.INFO, format=fmt, stream=sys.stderr)
    if log_dir:
        os.makedirs(log_dir, exist_ok=True)
        path = os.path.join(log_dir, f"{name}{time.strftime('_%m-%d-%H-%M-%S')}.txt")
        handler = logging.FileHandler(path)
        handler.setFormatter(logging.Formatter(fmt))
        logging.getLogger().addHandler(handler)


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds ``(default: X)`` to a flag's help unless the help already says its default, or the
    default is None or False (an optional value, an off switch)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or any(action.default is v for v in (None, False, argparse.SUPPRESS)):
            return text
        return super()._get_help_string(action)
