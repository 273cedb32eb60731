#!/usr/bin/env python3
"""Reproduce the paper's comparisons at CPU scale: TC vs BC vs TC without imitating thought.

    python scripts/reproduce.py --name minibosslevel_cpu

Generates the demos, trains the three methods for every seed with identical budgets, evaluates each
run (in-distribution success, a zero-shot suite binned by difficulty, and for TC: FADS, Precrime
Intervention, oracle-thought steering) and writes results/NAME/README.md with the table (mean ± std
over seeds), learning_curves.png and zeroshot_difficulty.png. Run the same command again after a
kill: finished stages and runs are kept, interrupted training resumes from its last checkpoint.
Work files go to <storage>/reproduce_NAME/ (logs of every stage in its logs/ folder).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from babyai.cli import UserError, run, setup_logging
from babyai.evaluate.reproduce import Pipeline, Plan, StageError

DEFAULTS = Plan(name="")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    a = p.add_argument
    a("--name", required=True, help="name of the reproduction (its folders; reuse it to resume)")
    a("--env", default=DEFAULTS.env, help=f"level (default: {DEFAULTS.env})")
    a("--demos", type=int, default=DEFAULTS.demos, help=f"training demonstrations (default: {DEFAULTS.demos})")
    a("--valid-demos", type=int, default=DEFAULTS.valid_demos, help="validation demonstrations")
    a("--noise-rate", type=float, default=DEFAULTS.noise_rate, help="demonstration noise (default: the paper's 0.01)")
    a("--seeds", type=int, nargs="+", default=DEFAULTS.seeds, help="training seeds (default: 1 2 3)")
    a("--epochs", type=int, default=DEFAULTS.epochs, help=f"epochs per run (default: {DEFAULTS.epochs})")
    a("--epoch-length", type=int, default=DEFAULTS.epoch_length, help="episodes per epoch")
    a("--stop-tf", type=int, default=DEFAULTS.stop_tf, help="epoch from which teacher forcing is phased out")
    a("--batch-size", type=int, default=DEFAULTS.batch_size)
    a("--lr", type=float, default=DEFAULTS.lr)
    a("--recurrence", type=int, default=DEFAULTS.recurrence)
    a("--memory-dim", type=int, default=DEFAULTS.memory_dim)
    a("--instr-dim", type=int, default=DEFAULTS.instr_dim)
    a("--val-episodes", type=int, default=DEFAULTS.val_episodes, help="fresh levels per validation")
    a("--eval-episodes", type=int, default=DEFAULTS.eval_episodes, help="fresh levels for the final evaluations")
    a("--tc-eval-episodes", type=int, default=DEFAULTS.tc_eval_episodes, help="fresh levels for FADS, Precrime, steering")
    a("--levels-per-bin", type=int, default=DEFAULTS.levels_per_bin, help="zero-shot suite levels per bin")
    a("--suite-max-seeds", type=int, default=DEFAULTS.suite_max_seeds, help="seeds tried to fill the suite")
    a("--jobs", type=int, default=os.cpu_count() or 1, help="runs at once, one thread each (default: one per core)")
    a("--storage-dir", default=None, help="storage root (default: $BABYAI_STORAGE or ./storage)")
    a("--results-dir", default="results", help="where the report goes (default: results)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    setup_logging()
    from babyai.levels import make_env, resolve_level_id
    from babyai.storage import storage_dir

    level = resolve_level_id(args.env)
    make_env(level)
    counts = {"--demos": args.demos, "--epochs": args.epochs, "--epoch-length": args.epoch_length, "--jobs": args.jobs,
              "--eval-episodes": args.eval_episodes, "--tc-eval-episodes": args.tc_eval_episodes,
              "--val-episodes": args.val_episodes,
              "--levels-per-bin": args.levels_per_bin, "--batch-size": args.batch_size}
    for flag, value in counts.items():
        if value < 1:
            raise UserError(f"{flag} must be at least 1, got {value}")
    if not args.name or os.sep in args.name or args.name.startswith("."):
        raise UserError(f"--name must be a plain folder name, got {args.name!r}")
    plan = Plan(name=args.name, env=level, demos=args.demos, valid_demos=args.valid_demos, noise_rate=args.noise_rate,
                seeds=args.seeds, epochs=args.epochs, epoch_length=args.epoch_length, stop_tf=args.stop_tf,
                batch_size=args.batch_size, lr=args.lr, recurrence=args.recurrence, memory_dim=args.memory_dim,
                instr_dim=args.instr_dim, val_episodes=args.val_episodes, eval_episodes=args.eval_episodes,
                tc_eval_episodes=args.tc_eval_episodes, levels_per_bin=args.levels_per_bin, suite_max_seeds=args.suite_max_seeds, jobs=args.jobs)
    command = "python scripts/reproduce.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    pipeline = Pipeline(plan, storage_dir(args.storage_dir), args.results_dir, command)
    try:
        path = pipeline.run()
    except StageError as e:
        raise UserError(str(e)) from None
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    run(main, sys.argv[1:])
