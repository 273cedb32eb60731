"""Steering: replace the Thought Cloning agent's thoughts and watch its actions follow.

    python -m babyai.commands.evaluate_steering --model NAME --env BabyAI-BossLevel-v0 --episodes 512

Reports the success rate of the plain agent next to "oracle thoughts + TC learned control": at every step
the oracle's thought for the current state (the oracle follows the agent's actions) replaces the agent's
own thought in its Action Generator. With --thought SENTENCE (and --steps), also the agent steered by
that sentence. Writes <storage>[/GROUP]/steering_<model>.csv and .json.
"""

from __future__ import annotations

import argparse
import os

from babyai.cli import run
from babyai.errors import UserError
from babyai.commands.common import add_model_args, add_rollout_args, note_threads, percent, set_threads, spec_from_args
from babyai.evaluate.io import write_csv, write_json
from babyai.evaluate.session import Evaluation


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog=os.path.basename(__file__), description=__doc__.split("\n\n")[0])
    add_model_args(p)
    add_rollout_args(p)
    p.add_argument("--thought", default=None, help="also steer with this sentence (e.g. 'pickup red ball')")
    p.add_argument("--steps", type=int, nargs="*", default=None, help="steps at which --thought is injected "
                   "(default: every step)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    set_threads(args)
    from babyai.agent.rollout import evaluate
    from babyai.evaluate.steering import FixedThought, OracleThoughts, steering_row

    ev = Evaluation(spec_from_args(args))
    policy, level, name, seeds = ev.policy, ev.level, ev.name, ev.seeds
    if policy is None or not policy.thinks:
        raise UserError("steering needs a Thought Cloning model (--model of a train_tc.py run)")
    if args.thought is not None:
        policy.check_thought(args.thought)
    common = dict(ev.common, oracle=True)
    note_threads(ev.note)
    print(f"{name} on {level}, {args.episodes} episodes from seed {args.seed}", flush=True)
    runs = {"TC": evaluate(policy, level, seeds, **common),
            "oracle thoughts + TC learned control": evaluate(policy, level, seeds, steering=OracleThoughts(), **common)}
    if args.thought is not None:
        runs[f"thought {args.thought!r}"] = evaluate(policy, level, seeds, steering=FixedThought(args.thought, args.steps),
                                                    **common)
    rows = [steering_row(label, records) for label, records in runs.items()]
    columns = list(rows[0])
    write_csv(os.path.join(ev.out, f"steering_{name}.csv"), columns, [[r[c] for c in columns] for r in rows])
    write_json(os.path.join(ev.out, f"steering_{name}.json"),
               {"model": name, "level": level, "first_seed": args.seed, "argmax": args.argmax, "rows": rows})
    for r in rows:
        print(f"{r['agent']:40s} success {percent(r['success']):>8s}   thoughts injected at {percent(r['injected_steps'])} "
              f"of steps; own = oracle thought at {percent(r['agrees_with_oracle_thought'])} of steps; "
              f"oracle lost track in {percent(r['oracle_lost'])} of episodes")
    print(f"wrote {os.path.join(ev.out, f'steering_{name}.csv')}")
    return 0


if __name__ == "__main__":
    run(main)
