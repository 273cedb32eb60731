"""Compatibility for babyai/evaluate/reproduce.py until it imports ``babyai.evaluate.session`` (then delete)."""

from babyai.evaluate.session import EVAL_FIRST_SEED  # noqa: F401
