"""The Thought Cloning agent and its Behavioral Cloning baseline (nn.Modules and their config)."""

from babyai.model.agents import AgentOutput, BCAgent, Memory, ThoughtCloningAgent
from babyai.model.config import EOS_ID, PAD_ID, SOS_ID, TCConfig
from babyai.model.generators import ActionGenerator, ThoughtGenerator

__all__ = [
    "AgentOutput",
    "ActionGenerator",
    "BCAgent",
    "EOS_ID",
    "Memory",
    "PAD_ID",
    "SOS_ID",
    "TCConfig",
    "ThoughtCloningAgent",
    "ThoughtGenerator",
]
