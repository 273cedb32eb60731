"""The project APIs imitation from observation builds on, imported in this one place (so that a move of
the agent layer or of training is an edit of these lines only)."""

from babyai.agent.loading import CheckpointError, load_checkpoint, load_policy, save_checkpoint  # noqa: F401
from babyai.agent.policy import ModelPolicy, StepOutput  # noqa: F401
from babyai.agent.rollout import evaluate, success_rate  # noqa: F401
from babyai.agent.vocab import Vocabulary  # noqa: F401
from babyai.atomic import atomic_write_text  # noqa: F401
from babyai.commands.train import main as train_main  # noqa: F401
from babyai.train.data import open_dataset  # noqa: F401
from babyai.train.run import check_run_kind  # noqa: F401
