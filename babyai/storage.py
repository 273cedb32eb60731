"""Where runs, demos and models live: ``--storage-dir`` > ``$BABYAI_STORAGE`` > ``./storage``.

What is written always goes under the storage folder: dataset names (``--demos``), run names
(``--model``) and groups (``--expr-group-name``) are plain names (a dataset to write may also be
given as a path inside the storage folder). Reading an existing dataset or run by an explicit
path stays possible.
"""

from __future__ import annotations

import os
import re

ENV_VAR = "BABYAI_STORAGE"
DEFAULT = "storage"


class StorageNameError(ValueError):
    """A name that would leave its folder of the storage (a path, '.', '..')."""


def storage_dir(path: str | None = None) -> str:
    """The storage root: the explicit path, else $BABYAI_STORAGE, else ./storage."""
    return path or os.environ.get(ENV_VAR) or DEFAULT


def check_name(name: str, flag: str = "name") -> str:
    """``name`` if it is a plain file name (no separator, not '.' or '..'), else StorageNameError."""
    separators = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    if (not isinstance(name, str) or name in ("", ".", "..") or "\0" in name or len(name) > 200
            or any(s in name for s in separators)):
        raise StorageNameError(f"{flag} must be a plain name (a folder under the storage folder, "
                               f"without '/'), got {name!r}")
    return name


def group_root(group: str = "", storage: str | None = None) -> str:
    """<storage>/GROUP for ``--expr-group-name GROUP`` (a plain name), or <storage> without one."""
    root = storage_dir(storage)
    return os.path.join(root, check_name(group, "--expr-group-name")) if group else root


def demos_path(name: str, storage: str | None = None) -> str:
    """A dataset to read: NAME itself when it is an existing path, else <storage>/demos/NAME."""
    if os.sep in name or os.path.isdir(name):
        return name
    return os.path.join(storage_dir(storage), "demos", check_name(name, "--demos"))


def new_demos_path(name: str, storage: str | None = None) -> str:
    """A dataset to write: <storage>/demos/NAME for a plain name; a path only inside the storage."""
    if re.search(r"\.tmp\d+$", os.path.basename(name.rstrip("/" + os.sep))):
        raise StorageNameError(f"--demos must not end like a writer's temporary folder (.tmpPID), got {name!r}")
    if "/" not in name and os.sep not in name:
        return os.path.join(storage_dir(storage), "demos", check_name(name, "--demos"))
    root, path = os.path.realpath(storage_dir(storage)), os.path.realpath(name)
    if path != root and os.path.commonpath([root, path]) == root:
        return name
    raise StorageNameError(f"--demos must be a plain name (or a path inside the storage folder "
                           f"{storage_dir(storage)}), got {name!r}")


def model_dir(name: str, storage: str | None = None) -> str:
    """A run's folder: <storage>/models/NAME, NAME a plain name."""
    return os.path.join(storage_dir(storage), "models", check_name(name, "--model"))
