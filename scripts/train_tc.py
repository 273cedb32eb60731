#!/usr/bin/env python3
"""babyai/commands/train_tc.py (the same as `python -m babyai.commands.train_tc`); see --help."""
import runpy

runpy.run_module("babyai.commands.train_tc", run_name="__main__", alter_sys=True)
