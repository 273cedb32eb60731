#!/usr/bin/env python3
"""babyai/commands/make_agent_demos.py (the same as `python -m babyai.commands.make_agent_demos`); see --help."""
import runpy

runpy.run_module("babyai.commands.make_agent_demos", run_name="__main__", alter_sys=True)
