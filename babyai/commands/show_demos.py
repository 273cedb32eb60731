"""Show the episodes of a demonstrations dataset: readable thoughts and actions, or JSON lines.

    python -m babyai.commands.show_demos NAME_OR_PATH [--jsonl] [--first K] [--count N]
"""

from __future__ import annotations

import argparse
import os
import json
import sys

from babyai.cli import run
from babyai.storage import demos_path, storage_dir


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=os.path.basename(__file__), description=__doc__.split("\n\n")[0])
    p.add_argument("demos", help="dataset name under <storage>/demos/, or its folder")
    p.add_argument("--jsonl", action="store_true",
                   help="one JSON object per episode (seed, mission, actions, thoughts, ...)")
    p.add_argument("--first", type=int, default=0, help="index of the first episode shown (default: 0)")
    p.add_argument("--count", type=int, default=None, help="episodes shown (default: all)")
    p.add_argument("--storage-dir", default=None,
                   help="storage root (default: $BABYAI_STORAGE or ./storage)")
    args = p.parse_args(argv)
    from babyai.demos import open_demos
    from babyai.demos.show import episode_json, format_episode

    if args.first < 0 or (args.count is not None and args.count < 0):
        p.error("--first and --count must be >= 0")
    demos = open_demos(demos_path(args.demos, storage_dir(args.storage_dir)))
    end = len(demos) if args.count is None else min(len(demos), args.first + args.count)
    for i in range(args.first, end):
        ep = demos[i]
        if args.jsonl:
            sys.stdout.write(json.dumps(episode_json(ep, i)) + "\n")
        else:
            print(format_episode(ep, i))
    return 0


if __name__ == "__main__":
    run(main)
