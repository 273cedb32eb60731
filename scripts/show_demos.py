#!/usr/bin/env python3
"""babyai/commands/show_demos.py (the same as `python -m babyai.commands.show_demos`); see --help."""
import runpy

runpy.run_module("babyai.commands.show_demos", run_name="__main__", alter_sys=True)
