"""Write a demonstrations dataset as a Minari dataset (with the oracle's thoughts in its infos).

    python -m babyai.commands.export_minari DEMOS --dataset-id thought-cloning/BabyAI-GoToLocal/oracle-v0

The dataset goes to Minari's storage ($MINARI_DATASETS_PATH, else ~/.minari/datasets), where
minari.load_dataset(ID) opens it. Needs Minari: pip install -e ".[minari]".
"""

from __future__ import annotations

import argparse
import os

from babyai.cli import run
from babyai.storage import demos_path, storage_dir


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=os.path.basename(__file__), description=__doc__.split("\n\n")[0])
    p.add_argument("demos", help="dataset name under <storage>/demos/, or its folder")
    p.add_argument("--dataset-id", required=True,
                   help="the Minari id to write, NAMESPACE/NAME-vN (an existing id is refused)")
    p.add_argument("--author", default=None, help="author recorded in the Minari metadata")
    p.add_argument("--description", default=None, help="description recorded in the Minari metadata "
                   "(default: one naming the level and the thoughts)")
    p.add_argument("--storage-dir", default=None,
                   help="storage root (default: $BABYAI_STORAGE or ./storage)")
    args = p.parse_args(argv)
    from babyai.demos import open_demos
    from babyai.demos.minari_io import export_minari

    demos = open_demos(demos_path(args.demos, storage_dir(args.storage_dir)))
    folder = export_minari(demos, args.dataset_id, author=args.author, description=args.description)
    print(f"{folder}: {len(demos)} episodes exported; open it with minari.load_dataset({args.dataset_id!r})")
    return 0


if __name__ == "__main__":
    run(main)
