#!/usr/bin/env python3
"""Train a latent world model (an RSSM) on embodiment data, for AIME (scripts/train_aime.py).

    scripts/train_world_model.py --env BabyAI-GoToLocal-v0 --embodiment gotolocal_random1k --model wm_gtl

writes <storage>/models/NAME/world_model.pt and wm_eval.json (held-out per-frame ELBO terms). A
finished model is not retrained.
"""

from babyai.cli import run
from babyai.observe.cli import world_model_main

if __name__ == "__main__":
    run(world_model_main)
