#!/usr/bin/env python3
"""babyai/commands/evaluate.py (the same as `python -m babyai.commands.evaluate`); see --help."""
import runpy

runpy.run_module("babyai.commands.evaluate", run_name="__main__", alter_sys=True)
