"""Convert a dataset made by the original Thought Cloning code (a pickle) to the safe format.

    python -m babyai.commands.import_demos PATH.pkl --env BabyAI-BossLevel-v0 --demos NAME --trust-pickle

Unpickling can run arbitrary code: this only runs with --trust-pickle.
"""

from __future__ import annotations

import argparse
import os

from babyai.cli import run
from babyai.storage import new_demos_path, storage_dir


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=os.path.basename(__file__), description=__doc__.split("\n\n")[0])
    p.add_argument("pickle", help="the original .pkl file")
    p.add_argument("--env", required=True, help="the level the demos were made on")
    p.add_argument("--demos", required=True, help="name of the new dataset")
    p.add_argument("--trust-pickle", action="store_true",
                   help="allow unpickling the file (only for files from a source you trust)")
    p.add_argument("--save-interval", type=int, default=1000, help="episodes per shard (default: 1000)")
    p.add_argument("--storage-dir", default=None, help="storage root (default: $BABYAI_STORAGE or ./storage)")
    args = p.parse_args(argv)
    from babyai.demos.legacy import import_original
    from babyai.levels import make_env, resolve_level_id

    level = resolve_level_id(args.env)
    make_env(level)
    folder = new_demos_path(args.demos, storage_dir(args.storage_dir))
    n = import_original(args.pickle, folder, level, trust_pickle=args.trust_pickle,
                        shard_size=args.save_interval)
    print(f"{folder}: {n} episodes imported")
    return 0


if __name__ == "__main__":
    run(main)
