"""Worker processes: the one start method of the whole project.

``forkserver`` (or ``spawn`` where there is none) rather than ``fork``: a forked child inherits the
parent's threads' locks (torch's, tqdm's) in whatever state they were, which can deadlock it, and
the parent's random states, which would make a worker's output depend on what ran before it.
"""

from __future__ import annotations

import multiprocessing as mp


def process_context():
    """The multiprocessing context every pool and worker process of this project is started from."""
    return mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
