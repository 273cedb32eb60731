"""Where runs, demos and models live: ``--storage-dir`` > ``$BABYAI_STORAGE`` > ``./storage``."""

from __future__ import annotations

import os

ENV_VAR = "BABYAI_STORAGE"
DEFAULT = "storage"


def storage_dir(path: str | None = None) -> str:
    """The storage root: the explicit path, else $BABYAI_STORAGE, else ./storage."""
    return path or os.environ.get(ENV_VAR) or DEFAULT


def demos_path(name: str, storage: str | None = None) -> str:
    """A dataset's folder: NAME itself when it is an existing path, else <storage>/demos/NAME."""
    if os.sep in name or os.path.isdir(name):
        return name
    return os.path.join(storage_dir(storage), "demos", name)


def model_dir(name: str, storage: str | None = None) -> str:
    """A run's folder: <storage>/models/NAME."""
    return os.path.join(storage_dir(storage), "models", name)
