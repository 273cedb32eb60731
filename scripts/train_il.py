#!/usr/bin/env python3
"""Train the Behavioral Cloning baseline (the Action Generator alone: mission and image, no thought)
on demonstrations, with the same flags, data pipeline, logs and trainer as scripts/train_tc.py.

Data-parallel: torchrun --nproc_per_node K scripts/train_il.py ... (--batch-size is the global batch).
"""

import sys

from babyai.train.cli import main

if __name__ == "__main__":
    sys.exit(main(algo="bc"))
