#!/usr/bin/env python3
"""babyai/commands/train_il.py (the same as `python -m babyai.commands.train_il`); see --help."""
import runpy

runpy.run_module("babyai.commands.train_il", run_name="__main__", alter_sys=True)
