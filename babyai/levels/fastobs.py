"""The agent's view computed from a cached encoding of the grid: minigrid's observation, faster.

minigrid builds each observation by copying the 7x7 view into a new Grid of objects, rotating it
cell by cell and encoding it; that is most of the cost of a step. ``FastObservation`` keeps the
encoded grid (rebuilt when a level is generated; the cells an action can change are re-encoded at
each observation) with which of its cells block the view, takes the view with one index into it
and computes what is visible one row at a time from a table. The observation is identical, byte
for byte (tests/test_levels.py compares them over thousands of random steps).
"""

from __future__ import annotations

import functools

import numpy as np

WALL_CODE = (2, 5, 0)  # a wall, grey: what minigrid shows outside the grid
EMPTY_CODE = (1, 0, 0)


class FastObservation:
    """Mixin for minigrid envs: a drop-in, faster ``gen_obs``."""

    _obs_grid = None

    def _encoded_grid(self) -> tuple:
        """The whole grid encoded, padded with walls by the view size on every side, and which
        of its cells block the view; both flattened x-major (see ``view_cells``)."""
        size = self.agent_view_size
        if self._obs_grid is not self.grid:  # a new level
            padded = np.empty((self.width + 2 * size, self.height + 2 * size, 3), np.uint8)
            padded[:] = WALL_CODE
            # minigrid's Grid.encode(), without its per-element numpy writes
            codes = [EMPTY_CODE if cell is None else cell.encode() for cell in self.grid.grid]
            padded[size:-size, size:-size] = np.array(codes, np.uint8).reshape(
                self.height, self.width, 3).transpose(1, 0, 2)
            self._obs_codes, self._obs_grid = padded.reshape(-1, 3), self.grid
            self._obs_opaque = opaque(self._obs_codes[:, 0], self._obs_codes[:, 2])
        else:  # actions change only the cell in front (pickup, drop, toggle)
            x, y = self.front_pos
            for i, j in ((x, y), self.agent_pos):
                if 0 <= i < self.width and 0 <= j < self.height:
                    cell = self.grid.get(i, j)
                    code = EMPTY_CODE if cell is None else cell.encode()
                    p = (i + size) * (self.height + 2 * size) + j + size
                    self._obs_codes[p], self._obs_opaque[p] = code, opaque(code[0], code[2])
        return self._obs_codes, self._obs_opaque

    def gen_obs(self):
        size = self.agent_view_size
        codes, opacity = self._encoded_grid()
        cells = view_cells(self)
        if self.see_through_walls:
            image = codes[cells]
        else:
            mask = visible_cells(opacity[cells], size)
            image = codes[cells] * mask[:, :, None]
        image[size // 2, size - 1] = self.carrying.encode() if self.carrying else EMPTY_CODE
        return {"image": image, "direction": self.agent_dir, "mission": self.mission}


def opaque(kind, state):
    """Whether encoded cells (arrays of object kinds and states, or one cell's) block the view:
    walls and closed doors."""
    return (kind == 2) | ((kind == 4) & (state != 0))


@functools.cache
def _view_offsets(padded_height: int, size: int, agent_dir: int) -> np.ndarray:
    """Offsets of the view's cells from its top-left one in a padded grid flattened x-major,
    laid out as the observation (minigrid rotates the view left ``agent_dir + 1`` times, so
    that the agent faces "up")."""
    i, j = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    return np.ascontiguousarray(np.rot90(i * padded_height + j, -(agent_dir + 1)))


def view_cells(env) -> np.ndarray:
    """The cells of ``env``'s agent view, laid out as its observation, as indices into the grid
    padded by the view size on every side and flattened x-major (cell (x, y) is at
    ``(x + size) * (height + 2 * size) + y + size``); the view never leaves the padded grid."""
    size = env.agent_view_size
    top_x, top_y, _, _ = env.get_view_exts()
    padded_height = env.height + 2 * size
    corner = (top_x + size) * padded_height + top_y + size
    return corner + _view_offsets(padded_height, size, env.agent_dir)


def visible_cells(opacity: np.ndarray, size: int) -> np.ndarray:
    """minigrid's ``Grid.process_vis`` on a view's opacity (indexed [x, y]); agent at the bottom
    middle. Light spreads row by row upwards (see ``_light_row``), one table look-up a row."""
    rows = (_bit_values(size) @ opacity).tolist()  # row y's opaque cells as bits, x = bit x
    lit, visible = 1 << (size // 2), [0] * size
    for j in range(size - 1, -1, -1):
        visible[j], lit = _light_row(size, lit, rows[j])
    return _bit_rows(size)[visible].T


@functools.cache
def _light_row(size: int, lit: int, opaque_bits: int) -> tuple:
    """One row of ``process_vis`` (bit i: column i): light spreads left-to-right then
    right-to-left from the lit cells that are not opaque. Returns (the row's visible cells,
    the cells it lights in the row above)."""
    row = [bool(lit >> i & 1) for i in range(size)]
    clear = [not opaque_bits >> i & 1 for i in range(size)]
    above = [False] * size
    for i in range(size - 1):
        if row[i] and clear[i]:
            row[i + 1] = above[i + 1] = above[i] = True
    for i in range(size - 1, 0, -1):
        if row[i] and clear[i]:
            row[i - 1] = above[i - 1] = above[i] = True
    return sum(1 << i for i in range(size) if row[i]), sum(1 << i for i in range(size) if above[i])


@functools.cache
def _bit_values(size: int) -> np.ndarray:
    return 1 << np.arange(size, dtype=np.int64)


@functools.cache
def _bit_rows(size: int) -> np.ndarray:
    """Row ``n``: the bits of ``n`` as booleans, lowest first."""
    return (np.arange(2**size)[:, None] >> np.arange(size) & 1).astype(bool)


@functools.cache
def fast_observation_class(env_class: type) -> type:
    """``env_class`` with the faster, identical ``gen_obs``."""
    name = f"Fast{env_class.__name__}"
    return type(name, (FastObservation, env_class), {"__module__": __name__, "__qualname__": name})


def __getattr__(name: str):
    # Lets pickle find the generated classes (``babyai.levels.fastobs.Fast<Level>``).
    if name.startswith("Fast"):
        from babyai.levels import compat

        inner = getattr(compat, name[4:], None) or compat.level_class(name[4:])
        if isinstance(inner, type):
            return fast_observation_class(inner)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
