"""Zero-shot evaluation on the out-of-distribution suites (the paper's Fig. 4a).

    python -m babyai.commands.evaluate_levels --env BabyAI-BossLevel-v0 --model NAME --testing-levels-path PATH

For each model writes <storage>[/GROUP]/zeroshot_<model>.csv (rows diff_type, diff, acc: the success
rate per difficulty bin; diff_type demo = behavioral, mission = cognitive) and zeroshot_<model>_episodes.jsonl
(one record per episode), and draws zeroshot_<models>.png (success vs difficulty, one line per model).
Actions are sampled, as in the original (--argmax for greedy). --oracle-thoughts adds, for each TC model,
the run with the oracle's thoughts fed to its Action Generator ("oracle thoughts + TC learned control").
"""

from __future__ import annotations

import argparse
import os

from babyai.cli import run
from babyai.errors import UserError
from babyai.commands.common import (add_model_args, add_rollout_args, check_flags, check_seed_and_device, note_threads,
                                    percent, set_threads)
from babyai.evaluate.io import results_dir, write_csv, write_jsonl
from babyai.evaluate.session import open_policy, policy_name
from babyai.evaluate.suites import (
    DIFF_NAMES,
    DIFF_TYPES,
    bin_seeds,
    bins_of_seed,
    check_disjoint,
    load_suites,
    success_by_bin,
    training_seed_ranges,
)


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog=os.path.basename(__file__), description=__doc__.split("\n\n")[0])
    add_model_args(p, several=True)
    p.add_argument("--testing-levels-path", required=True, help="suites file from make_testing_levels.py (JSON)")
    p.add_argument("--trust-pickle", action="store_true", help="accept the original's pickle of testing levels")
    add_rollout_args(p, episodes=None, seed=0, env="BabyAI-BossLevel-v0", seed_help="seed of the sampled actions")
    p.add_argument("--episodes", type=int, default=None, help="at most this many levels per bin (default: all)")
    p.add_argument("--oracle-thoughts", action="store_true", help="also evaluate each TC model with the oracle's "
                   "thoughts fed to its Action Generator (result files MODEL+oracle_thoughts)")
    p.add_argument("--no-plot", action="store_true", help="write the CSVs only (no matplotlib needed)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    set_threads(args)
    from babyai.agent.rollout import evaluate, success_rate
    from babyai.evaluate.steering import OracleThoughts
    from babyai.levels import make_env, resolve_level_id

    check_flags(args.episodes, args.batch_size, args.workers)
    check_seed_and_device(args.seed, 1, args.device)
    level = resolve_level_id(args.env)
    make_env(level)
    out = results_dir(args.storage_dir, args.expr_group_name, args.out_dir)
    if not args.no_plot:
        from babyai.evaluate.render import require

        require("matplotlib")
    suites = load_suites(args.testing_levels_path, args.trust_pickle)
    if suites.source == "generated" and resolve_level_id(suites.level) != level:
        raise UserError(f"the testing levels were made on {suites.level}, not --env {level}")
    bins = suites.seed_bins(args.episodes)
    seeds = bin_seeds(bins)
    if not seeds:
        raise UserError(f"{args.testing_levels_path} holds no levels")
    names = [policy_name(m) for m in args.model]
    if len(set(names)) != len(names):
        raise UserError("give each --model once (their result files are named by model)")
    policies = {}
    for model in args.model:  # load every model first: a bad one fails before any long evaluation
        policies[model] = open_policy(model, args.storage_dir, args.expr_group_name, args.device, args.checkpoint)
        if policies[model] is not None:
            check_disjoint(seeds, training_seed_ranges(model, args.storage_dir, args.expr_group_name))
    runs = [(model, name, None) for model, name in zip(args.model, names)]
    if args.oracle_thoughts:  # the paper's "oracle thoughts + TC learned control" line
        runs += [(m, f"{n}+oracle_thoughts", OracleThoughts()) for m, n in zip(args.model, names)
                 if policies[m] is not None and policies[m].thinks]
    note_threads()
    results, bins_of = {}, bins_of_seed(bins)
    for model, name, steering in runs:
        print(f"{name}: {len(seeds)} levels of {level}", flush=True)
        records = evaluate(policies[model], level, seeds, argmax=args.argmax, sample_seed=args.seed,
                           seeding=suites.seeding, workers=args.workers, batch_size=args.batch_size,
                           steering=steering, progress=True)
        rows = success_by_bin({r.seed: r for r in records}, bins)
        write_csv(os.path.join(out, f"zeroshot_{name}.csv"), ["diff_type", "diff", "acc"], rows)
        write_jsonl(os.path.join(out, f"zeroshot_{name}_episodes.jsonl"),
                    ({**r.to_dict(), "bins": bins_of[r.seed]} for r in records))
        results[name] = rows
        _print_rows(name, rows, len(records), success_rate(records))
    print(f"wrote {os.path.join(out, 'zeroshot_' + names[0] + '.csv')}" + (" and the others" if len(names) > 1 else ""))
    if not args.no_plot:
        from babyai.evaluate.plots import plot_zeroshot

        path = os.path.join(out, f"zeroshot_{'_'.join(names)}.png")
        plot_zeroshot(results, path, f"zero-shot on {level}")
        print(f"wrote {path}")
    return 0


def _print_rows(name: str, rows, episodes: int, overall: float) -> None:
    print(f"{name}: success on all {episodes} levels {percent(overall)}")
    for t in DIFF_TYPES:
        cells = [f"{b}:{percent(a)}" for tt, b, a in rows if tt == t]
        if cells:
            print(f"  {DIFF_NAMES[t]:10s} " + "  ".join(cells))


if __name__ == "__main__":
    run(main)
