#!/usr/bin/env python3
"""babyai/commands/evaluate_precrime.py (the same as `python -m babyai.commands.evaluate_precrime`); see --help."""
import runpy

runpy.run_module("babyai.commands.evaluate_precrime", run_name="__main__", alter_sys=True)
