#!/usr/bin/env python3
"""babyai/commands/plot_logs.py (the same as `python -m babyai.commands.plot_logs`); see --help."""
import runpy

runpy.run_module("babyai.commands.plot_logs", run_name="__main__", alter_sys=True)
