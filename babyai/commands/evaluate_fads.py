"""Interpretability: the Future Action Declaration Score (FADS), the share of the agent's object
interactions (pickup, drop, toggle) that its current thought declared (same verb family, same object).

    python -m babyai.commands.evaluate_fads --model NAME --env BabyAI-BossLevel-v0 --episodes 512 \
        [--testing-levels-path PATH]

Measured in distribution (fresh levels of --env from --seed) and, with --testing-levels-path, on the
zero-shot suites. Writes <storage>[/GROUP]/fads_<model>.json (scores, per verb and per suite bin) and
fads_<model>_undeclared.jsonl (every undeclared interaction with the thought spoken at that step).
--model BOT scores the oracle itself (100% by construction: a check of the measurement).
"""

from __future__ import annotations

import argparse
import os

from babyai.cli import run
from babyai.commands.common import add_model_args, add_rollout_args, note_threads, percent, set_threads, spec_from_args
from babyai.evaluate.io import write_json, write_jsonl
from babyai.evaluate.session import Evaluation
from babyai.evaluate.suites import DIFF_NAMES, DIFF_TYPES, bin_seeds, check_disjoint, load_suites

SHOWN = 10  # undeclared interactions printed


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog=os.path.basename(__file__), description=__doc__.split("\n\n")[0])
    add_model_args(p)
    add_rollout_args(p)
    p.add_argument("--testing-levels-path", default=None, help="also measure on these zero-shot suites")
    p.add_argument("--trust-pickle", action="store_true", help="accept the original's pickle of testing levels")
    p.add_argument("--suite-episodes", type=int, default=None, help="at most this many levels per suite bin (default: all)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    set_threads(args)
    from babyai.agent.rollout import evaluate, success_rate
    from babyai.evaluate.fads import fads, fads_by_bin
    from babyai.levels import resolve_level_id

    ev = Evaluation(spec_from_args(args), needs_thoughts="it has no thoughts to score")
    suites = load_suites(args.testing_levels_path, args.trust_pickle) if args.testing_levels_path else None
    note_threads(ev.note)
    records = evaluate(ev.policy, ev.level, ev.seeds, **ev.common)
    score = fads(records)
    report = {"model": ev.name, "level": ev.level, "first_seed": args.seed, "argmax": args.argmax,
              "in_distribution": {**score.summary(), "success": success_rate(records)}}
    undeclared = [{"where": "in-distribution", **u} for u in score.undeclared]
    print(f"{ev.name} on {ev.level}, {len(records)} episodes from seed {args.seed}: success "
          f"{percent(success_rate(records))}")
    _print_score("in distribution", score)
    if suites is not None:
        suite_level = resolve_level_id(suites.level) if suites.source == "generated" else ev.level
        bins = suites.seed_bins(args.suite_episodes)
        suite_seeds = bin_seeds(bins)
        check_disjoint(suite_seeds, ev.training_seeds)
        suite_records = evaluate(ev.policy, suite_level, suite_seeds, **{**ev.common, "seeding": suites.seeding})
        all_suites = fads(suite_records)
        report["suites"] = {"all": {**all_suites.summary(), "success": success_rate(suite_records)},
                            **fads_by_bin({r.seed: r for r in suite_records}, bins)}
        _print_score(f"on the suites ({len(suite_records)} levels)", all_suites)
        for t in DIFF_TYPES:
            cells = [f"{b}:{percent(v['fads'])}" for b, v in report["suites"][t].items()]
            print(f"  {DIFF_NAMES[t]:10s} " + "  ".join(cells))
        undeclared += [{"where": "suites", **u} for u in all_suites.undeclared]
    write_json(os.path.join(ev.out, f"fads_{ev.name}.json"), report)
    write_jsonl(os.path.join(ev.out, f"fads_{ev.name}_undeclared.jsonl"), undeclared)
    if undeclared:
        print(f"undeclared interactions ({len(undeclared)}; first {min(SHOWN, len(undeclared))}):")
        for u in undeclared[:SHOWN]:
            print(f"  [{u['where']}] seed {u['seed']} step {u['step']}: {u['interaction']} while thinking "
                  f"{u['thought']!r}")
    print(f"wrote {os.path.join(ev.out, f'fads_{ev.name}.json')} and fads_{ev.name}_undeclared.jsonl")
    return 0


def _print_score(where: str, score) -> None:
    verbs = ", ".join(f"{v} {percent(d / n)} of {n}" for v, (d, n) in sorted(score.by_verb.items()))
    print(f"FADS {where}: {percent(score.score)} ({score.declared}/{score.interactions} interactions declared"
          f"{'; ' + verbs if verbs else ''})")


if __name__ == "__main__":
    run(main)
