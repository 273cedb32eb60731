"""Learning curves from the log.csv of one or more training runs (the paper's Fig. 3).

    python -m babyai.commands.plot_logs RUN [RUN ...] --out curves.png [--y validation_success_rate validation_accuracy]

RUN is a run name (<storage>[/GROUP]/models/RUN) or a run folder. One panel per --y column, one line per run,
against --x (default: frames).
"""

from __future__ import annotations

import argparse
import os

from babyai.cli import run
from babyai.errors import UserError
from babyai.evaluate.io import results_dir, safe_name
from babyai.storage import group_root, model_dir


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog=os.path.basename(__file__), description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", help="run names or run folders")
    p.add_argument("--out", default=None, help="output image (default: <storage>[/GROUP]/curves_RUNS.png)")
    p.add_argument("--y", nargs="+", default=["validation_success_rate", "validation_accuracy"],
                   help="log.csv columns to plot (default: validation_success_rate validation_accuracy)")
    p.add_argument("--x", default="frames", help="x axis column (default: frames)")
    p.add_argument("--storage-dir", default=None, help="storage root (default: $BABYAI_STORAGE or ./storage)")
    p.add_argument("--expr-group-name", default="", help="group folder of the runs")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from babyai.evaluate.plots import plot_curves, read_log

    runs = {}
    for r in args.runs:
        folder = r if os.path.isdir(r) else model_dir(r, group_root(args.expr_group_name, args.storage_dir))
        path = os.path.join(folder, "log.csv")
        if not os.path.isfile(path):
            raise UserError(f"no training log for run {r}: {path} does not exist")
        rows = read_log(path)
        if rows and args.x not in rows[0]:
            raise UserError(f"{path} has no column {args.x!r}; columns: {', '.join(rows[0])}")
        runs[safe_name(r)] = rows
    present = [c for c in args.y if any(c in rows[0] for rows in runs.values() if rows)]
    if not present:
        raise UserError(f"none of the runs logs {', '.join(args.y)}")
    out = args.out or os.path.join(results_dir(args.storage_dir, args.expr_group_name),
                                   f"curves_{'_'.join(runs)}.png")
    plot_curves(runs, out, present, args.x)
    for label, rows in runs.items():
        last = {c: rows[-1].get(c) for c in present} if rows else {}
        print(f"{label}: {len(rows)} log rows; last: " + ", ".join(f"{c} {v}" for c, v in last.items()))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    run(main)
