#!/usr/bin/env python3
"""babyai/commands/evaluate_steering.py (the same as `python -m babyai.commands.evaluate_steering`); see --help."""
import runpy

runpy.run_module("babyai.commands.evaluate_steering", run_name="__main__", alter_sys=True)
