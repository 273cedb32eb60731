#!/usr/bin/env python3
"""The imitation-from-observation report: BC (true actions), BCO, TC from observation, IIDM, AIME and a random
policy on one level, over several seeds, with the IDM's accuracy and BCO against the amount of embodiment data.

    scripts/report_ifo.py --env BabyAI-GoToLocal-v0 --name ifo_gotolocal

writes results/NAME/ (README.md, results.json, plots). Run the same command after a kill: finished runs are kept.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from babyai.cli import run
from babyai.observe.constants import ReportConfig


def main(argv=None) -> int:
    d = ReportConfig()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--env", default=d.level, help="level")
    p.add_argument("--name", default=d.name, help="report folder results/NAME and prefix of its runs")
    p.add_argument("--storage-dir", default=d.storage, help="where the report's datasets and runs go")
    p.add_argument("--out", default=d.out, help="folder of the reports")
    p.add_argument("--demos", type=int, default=d.demos, help="oracle demonstrations")
    p.add_argument("--embodiment", type=int, nargs="+", default=d.embodiment,
                   help="random embodiment episodes for the IDM curve; the largest serves every method")
    p.add_argument("--seeds", type=int, nargs="+", default=d.seeds, help="training seeds of each method")
    p.add_argument("--epochs", type=int, default=d.epochs, help="epochs of BC, BCO and TC from observation")
    p.add_argument("--idm-epochs", type=int, default=d.idm_epochs, help="epochs of each inverse dynamics model")
    p.add_argument("--wm-updates", type=int, default=d.wm_updates, help="world-model updates")
    p.add_argument("--aime-updates", type=int, default=d.aime_updates, help="AIME policy updates")
    p.add_argument("--iidm-epochs", type=int, default=d.iidm_policy_epochs, help="epochs of each IIDM policy")
    p.add_argument("--eval-episodes", type=int, default=d.eval_episodes, help="evaluation levels per run")
    p.add_argument("--only-finished", action="store_true",
                   help="run nothing: write the report from the runs finished so far")
    args = p.parse_args(argv)
    counts = {"--demos": [args.demos], "--embodiment": args.embodiment, "--epochs": [args.epochs],
              "--idm-epochs": [args.idm_epochs], "--wm-updates": [args.wm_updates],
              "--aime-updates": [args.aime_updates], "--iidm-epochs": [args.iidm_epochs],
              "--eval-episodes": [args.eval_episodes]}
    bad = [flag for flag, values in counts.items() if min(values) < 1]
    if bad:
        p.error(f"{', '.join(bad)} must be >= 1")
    if min(args.seeds) < 0 or len(set(args.seeds)) != len(args.seeds):
        p.error("--seeds must be distinct and >= 0")
    from babyai.levels import make_env, resolve_level_id
    from babyai.observe.report import make_report

    level = resolve_level_id(args.env)
    make_env(level)  # fails early, with close matches, on an unknown level
    argv = sys.argv[1:] if argv is None else argv
    cfg = ReportConfig(level=level, name=args.name, storage=args.storage_dir, out=args.out, demos=args.demos,
                       embodiment=sorted(set(args.embodiment)), seeds=args.seeds, epochs=args.epochs,
                       idm_epochs=args.idm_epochs, wm_updates=args.wm_updates, aime_updates=args.aime_updates,
                       iidm_policy_epochs=args.iidm_epochs, eval_episodes=args.eval_episodes,
                       only_finished=args.only_finished,
                       command=shlex.join(["scripts/report_ifo.py", *(a for a in argv if a != "--only-finished")]))
    print(make_report(cfg))
    return 0


if __name__ == "__main__":
    run(main)
