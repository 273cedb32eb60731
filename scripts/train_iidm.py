#!/usr/bin/env python3
"""IIDM (AIME's baseline): a one-step forward model trained on embodiment data, then a policy trained on the
demonstrations' observations (not their actions) through the frozen forward model; then its success.

    scripts/train_iidm.py --env BabyAI-GoToLocal-v0 --embodiment gotolocal_random1k --demos gotolocal_demos \
        --model iidm_gtl

writes <storage>/models/NAME/iidm.pt and eval.json. A finished run is kept.
"""

from babyai.cli import run
from babyai.observe.cli import iidm_main

if __name__ == "__main__":
    run(iidm_main)
