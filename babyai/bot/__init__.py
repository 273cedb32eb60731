"""The oracle: the BabyAI bot that plans with subgoals and says its thought at every step."""

from babyai.bot.planner import Bot
from babyai.bot.subgoals import BotError

__all__ = ["Bot", "BotError"]
