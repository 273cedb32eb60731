#!/usr/bin/env python3
"""babyai/commands/visualize.py (the same as `python -m babyai.commands.visualize`); see --help."""
import runpy

runpy.run_module("babyai.commands.visualize", run_name="__main__", alter_sys=True)
