#!/usr/bin/env python3
"""Success rate of a trained agent (TC or BC) on fresh levels of one level family.

    scripts/evaluate.py --model NAME --env BabyAI-BossLevel-v0 --episodes 512

Prints the success rate, mean return and mean episode length (with the spread over episodes) and
writes <storage>[/GROUP]/evaluate_<model>.json and the per-episode records
(evaluate_<model>_episodes.jsonl). --model BOT runs the oracle (a calibration).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from babyai.cli import run
from babyai.evaluate.cli import Evaluation, add_model_args, add_rollout_args, percent, user_errors
from babyai.evaluate.io import write_json, write_jsonl
from babyai.agent.rollout import evaluate, success_rate


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_model_args(p)
    add_rollout_args(p)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with user_errors():
        ev = Evaluation(args)
        records = evaluate(ev.policy, ev.level, ev.seeds, **ev.common)
    name, level, out = ev.name, ev.level, ev.out
    returns = np.array([r.episode_return for r in records])
    lengths = np.array([r.length for r in records])
    report = {"model": name, "level": level, "first_seed": args.seed, "episodes": len(records), "argmax": args.argmax,
              "success": success_rate(records), "return_mean": float(returns.mean()), "return_std": float(returns.std()),
              "length_mean": float(lengths.mean()), "length_std": float(lengths.std())}
    write_jsonl(os.path.join(out, f"evaluate_{name}_episodes.jsonl"), (r.to_dict() for r in records))
    write_json(os.path.join(out, f"evaluate_{name}.json"), report)
    print(f"{name} on {level}, {len(records)} episodes from seed {args.seed}: success {percent(report['success'])}, "
          f"return {report['return_mean']:.3f} +- {report['return_std']:.3f}, "
          f"length {report['length_mean']:.1f} +- {report['length_std']:.1f}")
    print(f"wrote {os.path.join(out, f'evaluate_{name}.json')}")
    return 0


if __name__ == "__main__":
    run(main, sys.argv[1:])
