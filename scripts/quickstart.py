#!/usr/bin/env python3
"""The whole pipeline on a small default, on CPU in a few minutes.

Generates thought-annotated demonstrations on BabyAI-GoToLocal-v0 with the oracle and prints a
few episodes: at every step, what the oracle thought and what it did.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

SCRIPTS = os.path.dirname(os.path.abspath(__file__))


def step(script: str, *args) -> None:
    cmd = [sys.executable, os.path.join(SCRIPTS, script), *map(str, args)]
    print("\n$ " + " ".join(["scripts/" + script, *map(str, args)]), flush=True)
    if subprocess.call(cmd) != 0:
        sys.exit(f"quickstart: {script} failed")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default="BabyAI-GoToLocal-v0")
    p.add_argument("--episodes", type=int, default=2000)
    p.add_argument("--storage-dir", default=None)
    args = p.parse_args()
    storage = ["--storage-dir", args.storage_dir] if args.storage_dir else []
    name = f"quickstart_{args.env}"
    step("make_agent_demos.py", "--env", args.env, "--episodes", args.episodes,
         "--valid-episodes", 200, "--noise-rate", 0.01, "--seed", 1, "--demos", name, *storage)
    step("show_demos.py", name, "--count", 3, *storage)


if __name__ == "__main__":
    main()
