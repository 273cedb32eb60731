"""One writer per folder: a dataset being generated or a run being trained is locked for the run.

``with hold(folder, "dataset"):`` takes ``<folder>/.lock`` (an OS lock, ``fcntl.lockf``, which
the kernel drops when its process dies, however it dies) and writes the holder's PID into it.
A second writer gets a ``LockError`` naming that PID; the lock of a dead process is simply taken
over. Within a held folder, ``remove_temp_files`` clears what killed writers left behind.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import sys

LOCK_NAME = ".lock"
# temporary names of atomic writes: NAME.PID.tmp (shards, meta.json), NAME.tmpPID[.ext]
TEMP_NAME = re.compile(r"(\.\d+\.tmp|\.tmp\d*(\.\w+)?)$")


class LockError(OSError):
    """The folder is being written by another process."""


# folders this process holds (OS locks are per process: a second lockf here would succeed, and
# closing its descriptor would drop the first one)
_HELD: dict[str, int] = {}


def _holder(fd: int) -> str:
    """What the lock file says about its holder: 'process PID (COMMAND)'."""
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 512).decode("utf8", "replace").split("\n")
    pid, command = text[0].strip(), text[1].strip() if len(text) > 1 else ""
    if not pid.isdigit():
        return "another process"
    return f"process {pid}" + (f" ({command})" if command else "")


def _pid_alive(fd: int) -> bool:
    """For filesystems without OS locks: whether the PID in the lock file is a live process."""
    os.lseek(fd, 0, os.SEEK_SET)
    pid = os.read(fd, 32).split(b"\n")[0].strip()
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire(folder: str, what: str = "folder") -> int:
    """Take ``folder``'s lock (creating the folder); the lock file's descriptor, for ``release``."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, LOCK_NAME)
    key = os.path.realpath(folder)
    if key in _HELD:
        raise LockError(f"the {what} {folder} is in use by process {os.getpid()} (this one)")
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EACCES, errno.EAGAIN):
                holder = _holder(fd)
                os.close(fd)
                raise LockError(f"the {what} {folder} is in use by {holder}: wait for it to end "
                                "or stop it") from None
            if error.errno not in (errno.ENOLCK, errno.EOPNOTSUPP) or _pid_alive(fd):
                holder = _holder(fd)
                os.close(fd)
                raise LockError(f"the {what} {folder} is in use by {holder} (or cannot be "
                                f"locked: {error.strerror})") from None
        try:  # the file may have been removed by its last holder between open and lock
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n{program[:100]}\n".encode("utf8", "replace"), 0)
    _HELD[key] = fd
    return fd


def release(folder: str, fd: int) -> None:
    """Give the lock back (its file goes too, while still held: no one can take a stale copy)."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(folder, LOCK_NAME))
    _HELD.pop(os.path.realpath(folder), None)
    os.close(fd)


@contextlib.contextmanager
def hold(folder: str, what: str = "folder"):
    """Hold ``folder``'s lock for the ``with`` block; a folder this made and left empty goes."""
    existed = os.path.isdir(folder)
    fd = acquire(folder, what)
    try:
        yield folder
    finally:
        release(folder, fd)
        if not existed:
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # only if empty


def remove_temp_files(folder: str) -> list[str]:
    """Delete the temporary files of killed writers in ``folder`` (hold its lock); their names."""
    removed = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if TEMP_NAME.search(name) and os.path.isfile(path):
            os.remove(path)
            removed.append(name)
    return removed
