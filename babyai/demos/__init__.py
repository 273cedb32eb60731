"""Thought-annotated demonstrations: records, the on-disk format, generation with noise (the names are
imported when first used)."""

from babyai.lazy import lazy_exports

__all__ = ["DemoFormatError", "DemoReader", "DemoSpec", "Episode", "GenerationError",
           "VALID_FIRST_SEED", "generate_dataset", "open_demos"]
__getattr__, __dir__ = lazy_exports(__name__, {
    "babyai.demos.format": ["DemoFormatError", "DemoReader", "Episode", "open_demos"],
    "babyai.demos.generate": ["VALID_FIRST_SEED", "DemoSpec", "GenerationError", "generate_dataset"],
})
