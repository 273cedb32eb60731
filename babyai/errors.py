"""The errors a user's input causes, below every layer: library code raises them, and the command line
(``babyai.cli``) turns them into one ``error:`` line with a non-zero exit.

    raise UserError("--episodes must be >= 1")    # exit code 2 (or the code given)
    disk_full(error)                               # the full-disk OSError behind an error, else None
"""

from __future__ import annotations

import errno
import os


class UserError(Exception):
    """A bad input a command found itself (a clear message, exit code ``code``)."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


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
