#!/usr/bin/env python3
"""The development table of the exposure-bias probes: each run's last validation (and its optimizer steps),
read from its log.csv; copies each log.csv to runs/RUN/ beside this script (to commit).

    python results/exposure_bias/table.py STORAGE RUN [RUN ...] > results/exposure_bias/dev.md
"""

import csv
import os
import shutil
import sys

COLUMNS = [("optimizer_steps", "steps", 1), ("validation_success_rate", "success %", 100),
           ("validation_thought_nll", "TF NLL", 1), ("validation_thought_exact_tf", "TF exact %", 100),
           ("validation_thought_exact_demos", "free exact (demos) %", 100),
           ("validation_right_object_demos", "free right object (demos) %", 100),
           ("validation_thought_exact", "played exact %", 100), ("validation_right_object", "played right object %", 100)]


def main(storage: str, runs: list[str]) -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    print("| run | " + " | ".join(label for _, label, _ in COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for run in runs:
        path = os.path.join(storage, "models", run, "log.csv")
        with open(path, newline="") as f:
            rows = [r for r in csv.DictReader(f) if r.get("validation_success_rate")]
        os.makedirs(os.path.join(here, "runs", run), exist_ok=True)
        shutil.copyfile(path, os.path.join(here, "runs", run, "log.csv"))
        last = rows[-1]
        cells = [f"{float(last[key]) * scale:.{0 if key == 'optimizer_steps' else (2 if scale == 1 else 1)}f}"
                 for key, _, scale in COLUMNS]
        print(f"| {run} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
