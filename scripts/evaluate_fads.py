#!/usr/bin/env python3
"""Interpretability: the Future Action Declaration Score (FADS), the share of the agent's object
interactions (pickup, drop, toggle) that its current thought declared (same verb family, same object).

    scripts/evaluate_fads.py --model NAME --env BabyAI-BossLevel-v0 --episodes 512 [--testing-levels-path PATH]

Measured in distribution (fresh levels of --env from --seed) and, with --testing-levels-path, on the
zero-shot suites. Writes <storage>[/GROUP]/fads_<model>.json (scores, per verb and per suite bin) and
fads_<model>_undeclared.jsonl (every undeclared interaction with the thought spoken at that step).
--model BOT scores the oracle itself (100% by construction: a check of the measurement).
"""

from __future__ import annotations

import argparse
import os
import sys

from babyai.cli import run
from babyai.evaluate.cli import (
    Evaluation,
    add_model_args,
    add_rollout_args,
    percent,
    user_errors,
)
from babyai.evaluate.fads import fads
from babyai.evaluate.io import write_json, write_jsonl
from babyai.agent.rollout import evaluate, success_rate
from babyai.evaluate.suites import DIFF_NAMES, DIFF_TYPES, check_disjoint, load_suites
from babyai.levels import resolve_level_id

SHOWN = 10  # undeclared interactions printed


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_model_args(p)
    add_rollout_args(p)
    p.add_argument("--testing-levels-path", default=None, help="also measure on these zero-shot suites")
    p.add_argument("--trust-pickle", action="store_true", help="accept the original's pickle of testing levels")
    p.add_argument("--suite-episodes", type=int, default=None, help="at most this many levels per suite bin")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    with user_errors():
        ev = Evaluation(args, needs_thoughts="it has no thoughts to score")
        policy, level, name, out, common = ev.policy, ev.level, ev.name, ev.out, ev.common
        suites = load_suites(args.testing_levels_path, args.trust_pickle) if args.testing_levels_path else None
        records = evaluate(policy, level, ev.seeds, **common)
        score = fads(records)
        report = {"model": name, "level": level, "first_seed": args.seed, "argmax": args.argmax,
                  "in_distribution": {**score.summary(), "success": success_rate(records)}}
        undeclared = [{"where": "in-distribution", **u} for u in score.undeclared]
        print(f"{name} on {level}, {len(records)} episodes from seed {args.seed}: success {percent(success_rate(records))}")
        _print_score("in distribution", score)
        if suites is not None:
            suite_level = resolve_level_id(suites.level) if suites.source == "generated" else level
            bins = {t: {b: [d.seed for d in g][: args.suite_episodes] for b, g in suites.bins[t].items()}
                    for t in DIFF_TYPES}
            suite_seeds = sorted({s for t in bins.values() for g in t.values() for s in g})
            check_disjoint(suite_seeds, ev.training_seeds)
            by_seed = {r.seed: r for r in evaluate(policy, suite_level, suite_seeds, **{**common, "seeding": suites.seeding})}
            all_suites = fads(by_seed.values())
            report["suites"] = {"all": {**all_suites.summary(), "success": success_rate(list(by_seed.values()))}}
            _print_score(f"on the suites ({len(by_seed)} levels)", all_suites)
            for t in DIFF_TYPES:
                report["suites"][t] = {}
                for b, g in bins[t].items():
                    if g:
                        s = fads(by_seed[x] for x in g)
                        report["suites"][t][str(b)] = {"fads": s.score, "interactions": s.interactions}
                cells = [f"{b}:{percent(v['fads'])}" for b, v in report["suites"][t].items()]
                print(f"  {DIFF_NAMES[t]:10s} " + "  ".join(cells))
            undeclared += [{"where": "suites", **u} for u in all_suites.undeclared]
        write_json(os.path.join(out, f"fads_{name}.json"), report)
        write_jsonl(os.path.join(out, f"fads_{name}_undeclared.jsonl"), undeclared)
    if undeclared:
        print(f"undeclared interactions ({len(undeclared)}; first {min(SHOWN, len(undeclared))}):")
        for u in undeclared[:SHOWN]:
            print(f"  [{u['where']}] seed {u['seed']} step {u['step']}: {u['interaction']} while thinking "
                  f"{u['thought']!r}")
    print(f"wrote {os.path.join(out, f'fads_{name}.json')} and fads_{name}_undeclared.jsonl")
    return 0


def _print_score(where: str, score) -> None:
    verbs = ", ".join(f"{v} {percent(d / n)} of {n}" for v, (d, n) in sorted(score.by_verb.items()))
    print(f"FADS {where}: {percent(score.score)} ({score.declared}/{score.interactions} interactions declared"
          f"{'; ' + verbs if verbs else ''})")


if __name__ == "__main__":
    run(main, sys.argv[1:])
