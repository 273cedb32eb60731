#!/usr/bin/env python3
"""The whole pipeline on a small default, on CPU in well under ten minutes.

1. generates thought-annotated demonstrations on BabyAI-GoToLocal-v0 with the oracle and prints a
   few episodes (at every step, what the oracle thought and what it did);
2. trains a small Thought Cloning agent on them and prints its validation success;
3. evaluates it on 500 fresh levels and writes a GIF of one episode with its thoughts.
"""

from __future__ import annotations

import argparse
import subprocess
import sys


def step(script: str, *args) -> None:
    command = script.removesuffix(".py")
    cmd = [sys.executable, "-m", f"babyai.commands.{command}", *map(str, args)]
    print("\n$ " + " ".join(["scripts/" + script, *map(str, args)]), flush=True)
    if subprocess.call(cmd) != 0:
        sys.exit(f"quickstart: {script} failed")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="BabyAI-GoToLocal-v0", help="level (default: BabyAI-GoToLocal-v0)")
    p.add_argument("--episodes", type=int, default=2000, help="training demonstrations (default: 2000)")
    p.add_argument("--epochs", type=int, default=6, help="training epochs (default: 6)")
    p.add_argument("--storage-dir", default=None, help="storage root (default: $BABYAI_STORAGE or ./storage)")
    args = p.parse_args()
    storage = ["--storage-dir", args.storage_dir] if args.storage_dir else []
    demos, model = f"quickstart_{args.env}", f"quickstart_{args.env}_tc"
    step("make_agent_demos.py", "--env", args.env, "--episodes", args.episodes,
         "--valid-episodes", 200, "--noise-rate", 0.01, "--seed", 1, "--demos", demos,
         "--workers", 2, *storage)
    step("show_demos.py", demos, "--count", 2, *storage)
    step("train_tc.py", "--env", args.env, "--demos", demos, "--model", model,
         "--memory-dim", 128, "--instr-dim", 64, "--recurrence", 20, "--batch-size", 64,
         "--lr", 5e-4, "--epochs", args.epochs, "--epoch-length", 0, "--val-episodes", 200,
         "--val-seed", 10**6, "--sg-coef", 2, "--seed", 1, *storage)
    step("evaluate.py", "--model", model, "--env", args.env, "--episodes", 500, "--seed", 2 * 10**6, *storage)
    step("visualize.py", "--model", model, "--env", args.env, "--seed", 2 * 10**6,
         "--oracle", *storage)


if __name__ == "__main__":
    main()
