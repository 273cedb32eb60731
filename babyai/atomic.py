"""Files that exist only when complete: written under a temporary name next to them, then renamed."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from typing import BinaryIO


@contextlib.contextmanager
def atomic_path(path: str, tmp: str | None = None) -> Iterator[str]:
    """A temporary name next to ``path`` (``tmp``, or NAME.tmpPID.EXT) to write in the block; renamed over
    ``path`` when the block succeeds, removed when it fails (a full disk leaves no half-written file)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    root, ext = os.path.splitext(path)
    tmp = tmp or f"{root}.tmp{os.getpid()}{ext}"
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_write_bytes(path: str, write: Callable[[BinaryIO], object]) -> None:
    """Call write(file) on a temporary file next to ``path``, flush it to disk, then rename it over ``path``."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())


def atomic_write_text(path: str, text: str) -> None:
    atomic_write_bytes(path, lambda f: f.write(text.encode("utf-8")))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _stale(pid: str, own: bool) -> bool:
    """Whether ``pid`` (digits) names a writer no longer running (or, with ``own``, this process)."""
    return pid.isdigit() and ((own and int(pid) == os.getpid()) or not _alive(int(pid)))


def _names(parent: str) -> list[str]:
    return os.listdir(parent or ".") if os.path.isdir(parent or ".") else []


def _remove_stale(prefix: str) -> None:
    """Remove the folders PREFIX<pid> of processes no longer running, and this process's own."""
    parent, base = os.path.split(prefix)
    for name in _names(parent):
        if name.startswith(base) and _stale(name[len(base):], own=True):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)


def remove_stale_folders(parent: str) -> list[str]:
    """Remove the folders NAME.tmpPID in ``parent`` of writers no longer running (killed imports, exports,
    labellers); their names."""
    removed = []
    for name in sorted(_names(parent)):
        stem, dot_tmp, pid = name.rpartition(".tmp")
        if stem and dot_tmp and os.path.isdir(os.path.join(parent, name)) and _stale(pid, own=False):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
            removed.append(name)
    return removed


@contextlib.contextmanager
def atomic_folder(folder: str) -> Iterator[str]:
    """A new folder that appears only when complete: the block fills a temporary folder next to it
    (NAME.tmpPID), which is renamed to ``folder`` when the block succeeds and removed when it fails.
    FileExistsError if ``folder`` exists before or when the block ends (another writer got there first)."""
    if os.path.exists(folder):
        raise FileExistsError(f"{folder} already exists; choose another name")
    tmp = f"{folder.rstrip(os.sep)}.tmp{os.getpid()}"
    _remove_stale(f"{folder.rstrip(os.sep)}.tmp")  # left by killed writers (or one that had this PID)
    remove_stale_folders(os.path.dirname(os.path.abspath(folder)))  # and those of other names
    os.makedirs(tmp)
    try:
        yield tmp
        try:
            os.rename(tmp, folder)  # fails if another writer's folder arrived meanwhile
        except OSError as error:
            if os.path.exists(folder):
                raise FileExistsError(f"{folder} was written by another process meanwhile; choose another name") from None
            raise error
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
