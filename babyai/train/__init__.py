"""Imitation training of the Thought Cloning agent and of the Behavioral Cloning baseline."""
