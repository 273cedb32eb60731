"""What every command shares: the one place errors (``babyai.errors``, and those of the library listed in
``user_error_code``) become one-line ``error:`` messages with a non-zero exit; the help formatter of the flags.

    run(main)                     # in a script: main(argv) -> exit status; bad input -> "error: ..."
    call(main, argv)              # the same, returning the exit status instead of exiting (tests)

Set ``BABYAI_DEBUG=1`` to get the traceback of a user error instead of its one line.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from babyai.errors import UserError, disk_full, disk_full_message


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


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds ``(default: X)`` to a flag's help unless the help already says its default, or the
    default is None or False (an optional value, an off switch)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or any(action.default is v for v in (None, False, argparse.SUPPRESS)):
            return text
        return super()._get_help_string(action)
