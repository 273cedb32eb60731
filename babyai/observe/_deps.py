"""The project APIs imitation from observation builds on, imported in this one place (so that a move of
the agent layer, e.g. to ``babyai.agent``, is an edit of these lines only)."""

from babyai.evaluate.agent import ModelPolicy, StepOutput, load_policy  # noqa: F401
from babyai.evaluate.rollout import evaluate, success_rate  # noqa: F401
from babyai.train.checkpoint import (  # noqa: F401
    CheckpointError, atomic_write_text, load_checkpoint, save_checkpoint)
from babyai.train.data import open_dataset  # noqa: F401
from babyai.train.vocab import Vocabulary  # noqa: F401
