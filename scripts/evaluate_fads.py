#!/usr/bin/env python3
"""babyai/commands/evaluate_fads.py (the same as `python -m babyai.commands.evaluate_fads`); see --help."""
import runpy

runpy.run_module("babyai.commands.evaluate_fads", run_name="__main__", alter_sys=True)
