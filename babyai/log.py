"""The one logging setup, for commands and the library alike (a run's train.log, a command's log file).

    setup_logging("logs", "make_agent_demos")      # INFO to stderr and logs/make_agent_demos_<time>.txt
"""

from __future__ import annotations

import logging
import os
import sys
import time

LOG_FORMAT = "%(asctime)s %(message)s"
LOG_TIME = "%H:%M:%S"


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
