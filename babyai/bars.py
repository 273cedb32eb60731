"""The one progress bar of the project: tqdm on a terminal, plain lines in a log file.

A tqdm bar written to a file or a pipe redraws itself with ``\\r``, so a log holds one endless line of
repeated bars. When the bar's stream is not a terminal, ``progress_bar`` prints a plain line (the same
text, ASCII) every ``LINE_INTERVAL`` seconds and a last one when the bar closes.

    bar = progress_bar(total=n, unit="ep", desc="BossLevel", disable=not progress)
"""

from __future__ import annotations

import sys

LINE_INTERVAL = 30.0  # seconds between two plain lines (stream not a terminal)


def is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class _Lines:
    """A stream that turns each redraw of a bar (``\\r`` + text + padding) into one line."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        line = text.replace("\r", "").replace("\n", "").rstrip()
        if line:
            self.stream.write(line + "\n")

    def flush(self) -> None:
        getattr(self.stream, "flush", lambda: None)()


def progress_bar(iterable=None, *, file=None, line_interval: float = LINE_INTERVAL, **kwargs):
    """A ``tqdm`` bar (same arguments) on ``file`` (stderr by default); plain lines when it is no terminal."""
    from tqdm import tqdm

    stream = sys.stderr if file is None else file
    if kwargs.get("disable") or is_terminal(stream):
        return tqdm(iterable, file=stream, **kwargs)
    interval = max(kwargs.pop("mininterval", 0.0), line_interval)
    kwargs.update(mininterval=interval, maxinterval=max(kwargs.get("maxinterval", 10.0), interval), ascii=True,
                  leave=True, dynamic_ncols=False)
    total = kwargs.get("total", len(iterable) if hasattr(iterable, "__len__") else None)
    if total is not None and "bar_format" not in kwargs:  # the numbers without the bar's drawing
        kwargs["bar_format"] = ("{desc}: " if kwargs.get("desc") else "") + \
            "{percentage:3.0f}% {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]"
    return tqdm(iterable, file=_Lines(stream), **kwargs)
