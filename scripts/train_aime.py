#!/usr/bin/env python3
"""AIME: train a policy to maximise the evidence of the demonstrations' observations (not their actions)
under a frozen world model (scripts/train_world_model.py), then measure its success.

    scripts/train_aime.py --env BabyAI-GoToLocal-v0 --demos gotolocal_demos --world-model wm_gtl --model aime_gtl

writes <storage>/models/NAME/aime.pt (policy and world model) and eval.json. A finished run is kept.
"""

from babyai.cli import run
from babyai.observe.cli import aime_main

if __name__ == "__main__":
    run(aime_main)
