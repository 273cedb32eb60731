"""Import a dataset in the original program's pickle format (only when the user trusts it).

The original stored a pickled list of tuples ``(mission, blosc.pack_array(images), directions,
actions, thoughts, seed)``. Unpickling runs whatever code the file names, so this importer runs
only with ``trust_pickle=True`` (``--trust-pickle``); the result is written in the safe format.
"""

from __future__ import annotations

import os
import pickle

import blosc
import numpy as np

from babyai.demos.format import DemoFormatError, Episode, write_dataset
from babyai.demos.validate import episode_checker


def load_original_pickle(path: str, trust_pickle: bool = False) -> list:
    if not trust_pickle:
        raise DemoFormatError(f"refusing to unpickle {path}: a pickle can run arbitrary code; "
                              "pass --trust-pickle if you trust its source")
    try:
        with open(path, "rb") as f:
            return pickle.load(f)  # trusted: explicit opt-in above
    except OSError as error:
        raise DemoFormatError(f"cannot read {path}: {error.strerror}") from None
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError) as error:
        raise DemoFormatError(f"{path} is not a readable pickle ({error})") from None


def import_original(path: str, folder: str, level: str, trust_pickle: bool = False,
                    shard_size: int = 1000) -> int:
    """Convert the original pickle at ``path`` into a dataset folder; the number of episodes."""
    if os.path.exists(folder):
        raise FileExistsError(f"{folder} already exists; choose another name")
    check = episode_checker(level, "legacy")
    demos = load_original_pickle(path, trust_pickle)
    episodes = []
    for k, demo in enumerate(demos):
        try:
            mission, packed, directions, actions, thoughts = demo[:5]
            seed = int(demo[5]) if len(demo) > 5 else -1
            images = blosc.unpack_array(packed)  # trusted: explicit opt-in above
            ep = check(Episode(level=level, seed=seed, mission=mission, images=images, directions=directions,
                               actions=actions, thoughts=list(thoughts), noise=np.zeros(len(actions), bool),
                               seeding="legacy", generator="original (imported)"), f"{path}: demo {k}")
        except DemoFormatError:
            raise
        except (TypeError, ValueError, IndexError) as error:
            raise DemoFormatError(f"{path}: demo {k} is not in the original format ({error})") \
                from None
        episodes.append(ep)
    write_dataset(folder, episodes, {"level": level, "imported_from": os.path.basename(path), "noise_flags_known": False,
                                     "generator": "original (imported)"}, shard_size)
    return len(episodes)
