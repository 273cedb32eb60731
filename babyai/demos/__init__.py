"""Thought-annotated demonstrations: records, the on-disk format, generation with noise."""

from babyai.demos.format import DemoFormatError, DemoReader, Episode, open_demos
from babyai.demos.generate import VALID_FIRST_SEED, DemoSpec, GenerationError, generate_dataset

__all__ = ["DemoFormatError", "DemoReader", "DemoSpec", "Episode", "GenerationError",
           "VALID_FIRST_SEED", "generate_dataset", "open_demos"]
