"""Read a Minari BabyAI dataset into a demonstrations dataset (observations and actions).

    python -m babyai.commands.import_minari minigrid/BabyAI-GoToLocal/optimal-v0 --demos goto_minari

Minari's own BabyAI datasets have no thoughts: train Behavioral Cloning on them
(scripts/train_il.py); Thought Cloning refuses them. A dataset written by
scripts/export_minari.py comes back with its thoughts. Needs Minari: pip install -e ".[minari]".
"""

from __future__ import annotations

import argparse
import os

from babyai.cli import run
from babyai.storage import new_demos_path, storage_dir


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=os.path.basename(__file__), description=__doc__.split("\n\n")[0])
    p.add_argument("dataset_id", help="the id of a Minari dataset in Minari's local storage")
    p.add_argument("--demos", required=True, help="name of the new dataset")
    p.add_argument("--env", default=None,
                   help="the level the episodes were played on (default: the one the dataset names)")
    p.add_argument("--save-interval", type=int, default=None,
                   help="episodes per shard (default: an export of scripts/export_minari.py keeps its shards, "
                        "another dataset gets 1000)")
    p.add_argument("--storage-dir", default=None,
                   help="storage root (default: $BABYAI_STORAGE or ./storage)")
    args = p.parse_args(argv)
    from babyai.demos.minari_io import import_minari
    from babyai.levels import resolve_level_id

    if args.save_interval is not None and args.save_interval < 1:
        p.error("--save-interval must be at least 1")
    folder = new_demos_path(args.demos, storage_dir(args.storage_dir))
    level = resolve_level_id(args.env) if args.env else None
    meta = import_minari(args.dataset_id, folder, level=level, shard_size=args.save_interval)
    kind = "with thoughts" if meta["thoughts"] else "observations and actions, no thoughts"
    print(f"{folder}: {meta['num_episodes']} episodes ({meta['num_frames']} frames) of {meta['level']} "
          f"imported ({kind})")
    return 0


if __name__ == "__main__":
    run(main)
