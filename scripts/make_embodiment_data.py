#!/usr/bin/env python3
"""Generate embodiment data: the agent's own episodes on a level, with their actions.

    scripts/make_embodiment_data.py --env BabyAI-GoToLocal-v0 --episodes 1000 --policy random \
        --seed 0 --demos gotolocal_random1k --workers 2

writes <storage>/demos/NAME in the project's dataset format (failed episodes kept). Killed? Run
the same command again: it resumes where it stopped. The same arguments give the same bytes.
"""

from babyai.cli import run
from babyai.observe.cli import embodiment_main

if __name__ == "__main__":
    run(embodiment_main)
