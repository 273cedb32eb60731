#!/usr/bin/env python3
"""babyai/commands/make_testing_levels.py (the same as `python -m babyai.commands.make_testing_levels`); see --help."""
import runpy

runpy.run_module("babyai.commands.make_testing_levels", run_name="__main__", alter_sys=True)
