"""Thought Cloning on BabyAI: levels, the thought-speaking oracle, demos, models, training, evaluation."""

__version__ = "0.1.0"
