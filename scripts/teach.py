#!/usr/bin/env python3
"""babyai/commands/teach.py (the same as `python -m babyai.commands.teach`); see --help."""
import runpy

runpy.run_module("babyai.commands.teach", run_name="__main__", alter_sys=True)
