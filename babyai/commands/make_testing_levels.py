"""Build the zero-shot out-of-distribution suites: levels binned by behavioral difficulty (the oracle's
solution length: bins 25, 75, ..., 375, 425+) and by cognitive difficulty (distinct non-exploration
thoughts in it: bins 1..9, 9 meaning 9+), N levels per bin, as JSON (seeds and measured difficulty).

    python -m babyai.commands.make_testing_levels --env BabyAI-BossLevel-v0 --levels-per-bin 100 --out testing_levels.json

Seeds are tried in order from --first-seed (default 2*10^9: above the training demos, which start at 2023,
the validation demos at 10^9 and the validation levels at --val-seed) until every bin is full or
--max-seeds seeds were tried; the shortfall of rare bins is reported. The original's pickle converts with
--from-pickle PATH --trust-pickle.
"""

from __future__ import annotations

import argparse
import os
import sys

from babyai.cli import DefaultsHelpFormatter, run
from babyai.errors import UserError
from babyai.evaluate.suites import (
    SUITE_FIRST_SEED,
    build_suites,
    check_disjoint,
    load_suites,
    save_suites,
)
from babyai.storage import demos_path, storage_dir

# seed ranges the project's own data uses (README/DESIGN): training demos from 2023 (the paper: 1M episodes),
# validation demos from 10^9 (BabyAI), validation levels from --val-seed (10^9 by default; the paper passes 2023)
RESERVED = (("the training demos' seeds (2023 onwards, up to 2M episodes)", 2023, 2023 + 2_000_000 - 1),
            ("the validation demos' seeds (10^9 onwards, up to 10M episodes)", 10**9, 10**9 + 10**7 - 1))


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog=os.path.basename(__file__), description=__doc__.split("\n\n")[0],
                                formatter_class=DefaultsHelpFormatter)
    p.add_argument("--env", default="BabyAI-BossLevel-v0", help="level")
    p.add_argument("--levels-per-bin", type=int, default=100, help="levels in each difficulty bin")
    p.add_argument("--out", default=None, help="output JSON (default: <storage>/testing_levels_ENV.json)")
    p.add_argument("--max-seeds", type=int, default=200_000,
                   help="budget: seeds tried at most (rare bins may stay short of --levels-per-bin)")
    p.add_argument("--first-seed", type=int, default=SUITE_FIRST_SEED, help="first seed tried")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes running the oracle (default: one per core)")
    p.add_argument("--seeding", default="legacy", choices=["legacy", "gymnasium"], help="level seeding")
    p.add_argument("--exclude-demos", nargs="*", default=[],
                   help="datasets (names or paths) whose seeds the suites must not touch")
    p.add_argument("--storage-dir", default=None, help="storage root (default: $BABYAI_STORAGE or ./storage)")
    p.add_argument("--from-pickle", default=None, help="convert the original's testing-levels pickle to JSON")
    p.add_argument("--trust-pickle", action="store_true", help="allow reading a pickle (it can run code)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from babyai.levels import make_env, resolve_level_id

    level = resolve_level_id(args.env)
    make_env(level)  # an unknown level: one line with close matches
    out = args.out or os.path.join(storage_dir(args.storage_dir), f"testing_levels_{level}.json")
    if os.path.exists(out) and not args.force:
        raise UserError(f"{out} exists; pass --force to overwrite it")
    if args.from_pickle:
        if not args.trust_pickle:
            raise UserError("--from-pickle reads a pickle, which can run code: add --trust-pickle if you trust it")
        suites = load_suites(args.from_pickle, trust_pickle=True)
        suites.level = level
    else:
        if args.levels_per_bin < 1 or args.max_seeds < 1 or args.workers < 1:
            raise UserError("--levels-per-bin, --max-seeds and --workers must be at least 1")
        if args.first_seed < 0 or (args.seeding == "gymnasium" and args.first_seed + args.max_seeds > 2**32):
            raise UserError("seeds must lie in 0..2^32-1 with --seeding gymnasium, and be non-negative")
        ranges = list(RESERVED) + [_dataset_range(name, args.storage_dir) for name in args.exclude_demos]
        check_disjoint(range(args.first_seed, args.first_seed + args.max_seeds), ranges)
        suites = build_suites(level, args.levels_per_bin, args.max_seeds, args.first_seed, args.workers,
                              args.seeding)
    save_suites(suites, out)
    _report(suites, out)
    if suites.interrupted:
        print(f"interrupted after {suites.seeds_tried} seeds: {out} holds the levels found so far", file=sys.stderr)
        return 130
    return 0


def _dataset_range(name: str, storage: str | None) -> tuple[str, int, int]:
    from babyai.demos import open_demos

    reader = open_demos(demos_path(name, storage_dir(storage)), allow_incomplete=True)
    if len(reader.seeds) == 0:
        return (f"the demos {name}", 1, 0)
    return (f"the demos {name}", int(reader.seeds.min()), int(reader.seeds.max()))


def _report(suites, out: str) -> None:
    print(f"{out}: {suites.level}, {len(suites.seeds())} distinct levels from {suites.seeds_tried} seeds "
          f"({suites.first_seed}..{suites.first_seed + max(suites.seeds_tried, 1) - 1}), "
          f"{suites.oracle_failures} oracle failures, {suites.seconds:.1f} s")
    for diff_type, name in (("demo", "behavioral"), ("mission", "cognitive")):
        cells = [f"{b}{'+' if (diff_type == 'demo' and b == 425) or (diff_type == 'mission' and b == 9) else ''}:"
                 f"{len(g)}" for b, g in suites.bins[diff_type].items()]
        print(f"  {name:10s} " + " ".join(cells))
    short = {t: s for t, s in suites.shortfall().items() if s}
    if short:
        parts = [f"{t} {b}: {n} missing" for t, s in short.items() for b, n in s.items()]
        print(f"  shortfall ({suites.levels_per_bin} per bin asked; raise --max-seeds to fill): " + "; ".join(parts))


if __name__ == "__main__":
    run(main)
