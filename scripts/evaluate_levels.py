#!/usr/bin/env python3
"""babyai/commands/evaluate_levels.py (the same as `python -m babyai.commands.evaluate_levels`); see --help."""
import runpy

runpy.run_module("babyai.commands.evaluate_levels", run_name="__main__", alter_sys=True)
