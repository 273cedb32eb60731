"""The whole pipeline on a small default, on CPU in about two minutes (1:45 on a quiet 2-core machine).

    python -m babyai.commands.quickstart [--env LEVEL] [--episodes N] [--epochs E] [--storage-dir DIR]

1. generates thought-annotated demonstrations on BabyAI-GoToLocal-v0 with the oracle and prints a
   few episodes (at every step, what the oracle thought and what it did);
2. trains a small Thought Cloning agent on them and prints its validation success;
3. evaluates it on 500 fresh levels and writes a GIF of one episode with its thoughts.

Each step runs a command of this package (python -m babyai.commands.NAME, the same as scripts/NAME.py),
so it works from an installed package as from the checkout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from babyai.cli import run
from babyai.errors import UserError


def step(command: str, *args) -> None:
    """Run ``python -m babyai.commands.COMMAND ARGS``, shown as scripts/COMMAND.py; a UserError if it fails."""
    args = [str(a) for a in args]
    print("\n$ " + " ".join([f"scripts/{command}.py", *args]), flush=True)
    status = subprocess.call([sys.executable, "-m", f"babyai.commands.{command}", *args])
    if status != 0:
        raise UserError(f"quickstart: {command}.py failed (exit status {status}; its message is above)",
                        code=status if 0 < status < 256 else 1)


def parse_args(argv=None) -> argparse.Namespace:
    doc = __doc__.split("\n\n")
    p = argparse.ArgumentParser(prog=os.path.basename(__file__), description=doc[0], epilog="\n\n".join(doc[2:]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="BabyAI-GoToLocal-v0", help="level (default: BabyAI-GoToLocal-v0)")
    p.add_argument("--episodes", type=int, default=2000, help="training demonstrations (default: 2000)")
    p.add_argument("--epochs", type=int, default=6, help="training epochs (default: 6)")
    p.add_argument("--storage-dir", default=None, help="storage root (default: $BABYAI_STORAGE or ./storage)")
    args = p.parse_args(argv)
    if args.episodes < 1 or args.epochs < 1:
        p.error("--episodes and --epochs must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    storage = ["--storage-dir", args.storage_dir] if args.storage_dir else []
    demos, model = f"quickstart_{args.env}", f"quickstart_{args.env}_tc"
    step("make_agent_demos", "--env", args.env, "--episodes", args.episodes,
         "--valid-episodes", 200, "--noise-rate", 0.01, "--seed", 1, "--demos", demos,
         "--workers", 2, *storage)
    step("show_demos", demos, "--count", 2, *storage)
    step("train_tc", "--env", args.env, "--demos", demos, "--model", model,
         "--image-dim", 32, "--memory-dim", 128, "--instr-dim", 64, "--recurrence", 20, "--batch-size", 64,
         "--lr", 5e-4, "--epochs", args.epochs, "--epoch-length", 0, "--val-episodes", 200,
         "--val-seed", 10**6, "--sg-coef", 2, "--seed", 1, *storage)
    step("evaluate", "--model", model, "--env", args.env, "--episodes", 500, "--seed", 2 * 10**6, *storage)
    step("visualize", "--model", model, "--env", args.env, "--seed", 2 * 10**6, "--oracle", *storage)
    return 0


if __name__ == "__main__":
    run(main)
