"""Package ``__init__`` files that export names without importing their modules until a name is used,
so that a command's ``--help`` (and anything else that needs only a constant or a config class) does not
pay for torch, gymnasium or minigrid.

    __getattr__, __dir__ = lazy_exports(__name__, {"babyai.model.agents": ["ThoughtCloningAgent", ...],
                                                   "babyai.evaluate.precrime": ["TESTS as PRECRIME_TESTS"]})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def lazy_exports(package: str, table: dict[str, list[str]]) -> tuple[Callable, Callable]:
    """The module ``__getattr__`` and ``__dir__`` of ``package``: each name of ``table[module]`` is imported
    from ``module`` when first asked for (and kept in the package); other names may be its submodules."""
    where = {}  # exported name -> (module, its name there); "X as Y" exports the module's X as Y
    for module, names in table.items():
        for entry in names:
            original, _, alias = entry.partition(" as ")
            where[alias or original] = (module, original)

    def __getattr__(name: str):
        namespace = vars(sys.modules[package])
        if name in where:
            module, original = where[name]
            value = getattr(importlib.import_module(module), original)
        elif not name.startswith("__"):
            try:
                value = importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as e:
                if e.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__
