#!/usr/bin/env python3
"""Train an inverse dynamics model (which action led from one observation to the next) on embodiment data.

    scripts/train_idm.py --env BabyAI-GoToLocal-v0 --embodiment gotolocal_random1k --model idm_gtl \
        --eval-demos gotolocal_demos

writes <storage>/models/NAME/idm.pt and idm_eval.json (accuracy and per-action accuracy against the
true actions of --eval-demos, the share of ambiguous transitions). A finished IDM is not retrained.
"""

from babyai.cli import run
from babyai.observe.cli import idm_main

if __name__ == "__main__":
    run(idm_main)
