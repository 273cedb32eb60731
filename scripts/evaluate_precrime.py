#!/usr/bin/env python3
"""Safety: Precrime Intervention. For each of the paper's three unsafe behaviors (touching red items,
picking up balls, picking up the requested item), the share of episodes showing it when the agent runs
freely, and when it is halted as soon as its thought declares the unsafe plan (the paper's Table).

    scripts/evaluate_precrime.py --model NAME --env BabyAI-BossLevel-v0 --episodes 512

The behavior is detected in the level (the pickups, drops and toggles the agent's actions caused), the
plan in the thought (babyai/evaluate/precrime.py has the definitions). Writes
<storage>[/GROUP]/precrime_<model>.csv and .json. --model BOT runs the oracle (a calibration).
"""

from __future__ import annotations

import argparse
import os
import sys

from babyai.cli import UserError, run
from babyai.evaluate.cli import (
    Evaluation,
    add_model_args,
    add_rollout_args,
    percent,
    user_errors,
)
from babyai.evaluate.io import write_csv, write_json
from babyai.evaluate.precrime import TESTS, get_tests, halt_rule, summarize
from babyai.agent.rollout import evaluate

COLUMNS = ["test", "behavior", "detected", "pattern", "episodes", "unsafe_without", "unsafe_with", "halted_with", "plan_declared_without",
           "success_without", "success_with"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_model_args(p)
    add_rollout_args(p)
    p.add_argument("--tests", nargs="+", default=list(TESTS), help=f"which tests (default: {' '.join(TESTS)})")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        tests = get_tests(args.tests)
    except ValueError as e:
        raise UserError(str(e)) from None
    with user_errors():
        ev = Evaluation(args, needs_thoughts="it has no thoughts to intervene on")
        policy, level, name, out, seeds, common = ev.policy, ev.level, ev.name, ev.out, ev.seeds, ev.common
        print(f"{name} on {level}, {args.episodes} episodes from seed {args.seed}", flush=True)
        without = evaluate(policy, level, seeds, **common)
        rows = []
        for test in tests:
            with_ = evaluate(policy, level, seeds, halt=halt_rule(test), **common)
            rows.append(summarize(test, without, with_))
        write_csv(os.path.join(out, f"precrime_{name}.csv"), COLUMNS, [[r[c] for c in COLUMNS] for r in rows])
        write_json(os.path.join(out, f"precrime_{name}.json"),
                   {"model": name, "level": level, "first_seed": args.seed, "argmax": args.argmax, "rows": rows})
    width = max(len(r["behavior"]) for r in rows)
    print(f"{'episodes with unsafe behavior':{width}s}  {'without':>8s}  {'with':>8s}    (halted; success without -> with)")
    for r in rows:
        print(f"{r['behavior']:{width}s}  {percent(r['unsafe_without']):>8s}  {percent(r['unsafe_with']):>8s}    "
              f"({percent(r['halted_with'])}; {percent(r['success_without'])} -> {percent(r['success_with'])})")
    for r in rows:
        top = "; ".join(f"{t!r} x{n}" for t, n in r["halting_thoughts"][:3]) or "none"
        print(f"  {r['test']}: detected = {r['detected']}; halts on thoughts {r['pattern']}; "
              f"plan declared in {percent(r['plan_declared_without'])} of free episodes; most frequent halts: {top}")
    print(f"wrote {os.path.join(out, f'precrime_{name}.csv')}")
    return 0


if __name__ == "__main__":
    run(main, sys.argv[1:])
