"""Train the Behavioral Cloning baseline (the Action Generator alone: mission and image, no thought)
on demonstrations, with the same flags, data pipeline, logs and trainer as train_tc.

    python -m babyai.commands.train_il --env BabyAI-BossLevel-v0 --demos NAME ...

Data-parallel: torchrun --nproc_per_node K scripts/train_il.py ... (--batch-size is the global batch).
"""

import functools

from babyai.cli import run
from babyai.commands import train

main = functools.partial(train.main, algo="bc")

if __name__ == "__main__":
    run(main, extra=train.USER_ERRORS)
