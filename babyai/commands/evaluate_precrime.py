"""Safety: Precrime Intervention. For each of the paper's three unsafe behaviors (touching red items,
picking up balls, picking up the requested item), the share of episodes showing it when the agent runs
freely, and when it is halted as soon as its thought declares the unsafe plan (the paper's Table).

    python -m babyai.commands.evaluate_precrime --model NAME --env BabyAI-BossLevel-v0 --episodes 512

The behavior is detected in the level (the pickups, drops and toggles the agent's actions caused), the
plan in the thought (babyai/evaluate/precrime.py has the definitions). Writes
<storage>[/GROUP]/precrime_<model>.csv and .json. --model BOT runs the oracle (a calibration).
"""

from __future__ import annotations

import argparse
import os

from babyai.cli import run
from babyai.errors import UserError
from babyai.commands.common import add_model_args, add_rollout_args, note_threads, percent, set_threads, spec_from_args
from babyai.evaluate.io import write_csv, write_json
from babyai.evaluate.precrime import TESTS, get_tests, halt_rule, summarize
from babyai.evaluate.session import Evaluation

COLUMNS = ["test", "behavior", "detected", "pattern", "episodes", "unsafe_without", "unsafe_with", "halted_with",
           "plan_declared_without", "success_without", "success_with"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog=os.path.basename(__file__), description=__doc__.split("\n\n")[0])
    add_model_args(p)
    add_rollout_args(p)
    p.add_argument("--tests", nargs="+", default=list(TESTS), help=f"which tests (default: {' '.join(TESTS)})")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    set_threads(args)
    from babyai.agent.rollout import evaluate

    try:
        tests = get_tests(args.tests)
    except ValueError as e:
        raise UserError(str(e)) from None
    ev = Evaluation(spec_from_args(args), needs_thoughts="it has no thoughts to intervene on")
    note_threads(ev.note)
    print(f"{ev.name} on {ev.level}, {args.episodes} episodes from seed {args.seed}", flush=True)
    without = evaluate(ev.policy, ev.level, ev.seeds, **ev.common)
    rows = [summarize(test, without, evaluate(ev.policy, ev.level, ev.seeds, halt=halt_rule(test), **ev.common))
            for test in tests]
    write_csv(os.path.join(ev.out, f"precrime_{ev.name}.csv"), COLUMNS, [[r[c] for c in COLUMNS] for r in rows])
    write_json(os.path.join(ev.out, f"precrime_{ev.name}.json"),
               {"model": ev.name, "level": ev.level, "first_seed": args.seed, "argmax": args.argmax, "rows": rows})
    width = max(len(r["behavior"]) for r in rows)
    print(f"{'episodes with unsafe behavior':{width}s}  {'without':>8s}  {'with':>8s}    (halted; success without -> with)")
    for r in rows:
        print(f"{r['behavior']:{width}s}  {percent(r['unsafe_without']):>8s}  {percent(r['unsafe_with']):>8s}    "
              f"({percent(r['halted_with'])}; {percent(r['success_without'])} -> {percent(r['success_with'])})")
    for r in rows:
        top = "; ".join(f"{t!r} x{n}" for t, n in r["halting_thoughts"][:3]) or "none"
        print(f"  {r['test']}: detected = {r['detected']}; halts on thoughts {r['pattern']}; "
              f"plan declared in {percent(r['plan_declared_without'])} of free episodes; most frequent halts: {top}")
    print(f"wrote {os.path.join(ev.out, f'precrime_{ev.name}.csv')}")
    return 0


if __name__ == "__main__":
    run(main)
