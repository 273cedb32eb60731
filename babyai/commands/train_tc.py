"""Train a Thought Cloning agent on demonstrations (--sg-coef 0: TC without imitating thought).

    python -m babyai.commands.train_tc --env BabyAI-BossLevel-v0 --demos NAME --memory-dim=2048 \
        --recurrence=80 --batch-size=180 --instr-arch=attgru --instr-dim=256 --val-interval 2 \
        --log-interval 2 --lr 5e-4 --epochs 160 --epoch-length 51200 --seed 0 --val-seed 2023 --model NAME \
        --sg-coef 2 --warm-start --stop-tf 10

Data-parallel: torchrun --nproc_per_node K scripts/train_tc.py ... (--batch-size is the global batch).
Re-running a command resumes its run from the last checkpoint.
"""

import functools

from babyai.cli import run
from babyai.commands import train

main = functools.partial(train.main, algo="tc")

if __name__ == "__main__":
    run(main, extra=train.USER_ERRORS)
