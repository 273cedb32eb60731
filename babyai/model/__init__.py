"""The Thought Cloning agent and its Behavioral Cloning baseline (nn.Modules and their config)."""

from babyai.lazy import lazy_exports

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
__getattr__, __dir__ = lazy_exports(__name__, {
    "babyai.model.agents": ["AgentOutput", "BCAgent", "Memory", "ThoughtCloningAgent"],
    "babyai.model.config": ["EOS_ID", "PAD_ID", "SOS_ID", "TCConfig"],
    "babyai.model.generators": ["ActionGenerator", "ThoughtGenerator"],
})
