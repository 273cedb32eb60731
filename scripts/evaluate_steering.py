#!/usr/bin/env python3
"""Steering: replace the Thought Cloning agent's thoughts and watch its actions follow.

    scripts/evaluate_steering.py --model NAME --env BabyAI-BossLevel-v0 --episodes 512

Reports the success rate of the plain agent next to "oracle thoughts + TC learned control": at every step
the oracle's thought for the current state (the oracle follows the agent's actions) replaces the agent's
own thought in its Action Generator. With --thought SENTENCE (and --steps), also the agent steered by
that sentence. Writes <storage>[/GROUP]/steering_<model>.csv and .json.
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
from babyai.agent.rollout import evaluate, success_rate
from babyai.evaluate.steering import FixedThought, OracleThoughts
from babyai.evaluate.thoughts import normalize


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_model_args(p)
    add_rollout_args(p)
    p.add_argument("--thought", default=None, help="also steer with this sentence (e.g. 'pickup red ball')")
    p.add_argument("--steps", type=int, nargs="*", default=None, help="steps at which --thought is injected "
                   "(default: every step)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with user_errors():
        ev = Evaluation(args)
        policy, level, name, out, seeds = ev.policy, ev.level, ev.name, ev.out, ev.seeds
        if policy is None or not policy.thinks:
            raise UserError("steering needs a Thought Cloning model (--model of a train_tc.py run)")
        if args.thought is not None:
            policy.check_thought(args.thought)
        common = dict(ev.common, oracle=True)
        print(f"{name} on {level}, {args.episodes} episodes from seed {args.seed}", flush=True)
        runs = {"TC": evaluate(policy, level, seeds, **common),
                "oracle thoughts + TC learned control": evaluate(policy, level, seeds, steering=OracleThoughts(), **common)}
        if args.thought is not None:
            runs[f"thought {args.thought!r}"] = evaluate(policy, level, seeds, steering=FixedThought(args.thought, args.steps),
                                                        **common)
        rows = []
        for label, records in runs.items():
            steps = sum(r.length for r in records)
            rows.append({
                "agent": label, "episodes": len(records), "success": success_rate(records),
                "injected_steps": sum(len(r.injected) for r in records) / max(steps, 1),
                "oracle_lost": sum(r.oracle_error is not None for r in records) / len(records),
                "agrees_with_oracle_thought": sum(normalize(t) == normalize(o) for r in records
                                                  for t, o in zip(r.thoughts, r.oracle_thoughts) if o is not None)
                / max(steps, 1),
            })
        columns = list(rows[0])
        write_csv(os.path.join(out, f"steering_{name}.csv"), columns, [[r[c] for c in columns] for r in rows])
        write_json(os.path.join(out, f"steering_{name}.json"),
                   {"model": name, "level": level, "first_seed": args.seed, "argmax": args.argmax, "rows": rows})
    for r in rows:
        print(f"{r['agent']:40s} success {percent(r['success']):>8s}   thoughts injected at {percent(r['injected_steps'])} "
              f"of steps; own = oracle thought at {percent(r['agrees_with_oracle_thought'])} of steps; "
              f"oracle lost track in {percent(r['oracle_lost'])} of episodes")
    print(f"wrote {os.path.join(out, f'steering_{name}.csv')}")
    return 0


if __name__ == "__main__":
    run(main, sys.argv[1:])
