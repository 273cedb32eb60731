#!/usr/bin/env python3
"""babyai/commands/quickstart.py (the same as `python -m babyai.commands.quickstart`); see --help."""
import runpy

runpy.run_module("babyai.commands.quickstart", run_name="__main__", alter_sys=True)
