"""Teaching sessions: a person on a web page (or the oracle) approves the agent's action, overrides it, or
rewrites its thought at every step, while a separate process trains the agent online on what was taught.

    from babyai.teach import TeachConfig, teach
    teach(TeachConfig("BabyAI-GoToLocal-v0", "me", teacher="oracle", episodes=100))
"""

from babyai.lazy import lazy_exports

__all__ = ["OnlineConfig", "SessionError", "TeachConfig", "teach"]
__getattr__, __dir__ = lazy_exports(__name__, {
    "babyai.teach.online": ["OnlineConfig"],
    "babyai.teach.run": ["SessionError", "TeachConfig", "teach"],
})
