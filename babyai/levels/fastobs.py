"""The agent's view computed from a cached encoding of the grid: minigrid's observation, faster.

minigrid builds each observation by copying the 7x7 view into a new Grid of objects, rotating it
cell by cell and encoding it; that is most of the cost of a step. ``FastObservation`` keeps the
encoded grid (rebuilt when a level is generated; the cells an action can change are re-encoded at
each observation) and takes the view with numpy. The observation is identical, byte for byte
(tests/test_levels.py compares them over thousands of random steps).
"""

from __future__ import annotations

import functools

import minigrid.envs.babyai as minigrid_levels
import numpy as np

WALL_CODE = (2, 5, 0)  # a wall, grey: what minigrid shows outside the grid
EMPTY_CODE = (1, 0, 0)


class FastObservation:
    """Mixin for minigrid envs: a drop-in, faster ``gen_obs``."""

    _obs_grid = None

    def _encoded_grid(self) -> np.ndarray:
        """The whole grid encoded, padded with walls by the view size on every side."""
        size = self.agent_view_size
        if self._obs_grid is not self.grid:  # a new level
            padded = np.empty((self.width + 2 * size, self.height + 2 * size, 3), np.uint8)
            padded[:] = WALL_CODE
            padded[size:-size, size:-size] = self.grid.encode()
            self._obs_padded, self._obs_grid = padded, self.grid
        else:  # actions change only the cell in front (pickup, drop, toggle)
            x, y = self.front_pos
            for i, j in ((x, y), self.agent_pos):
                if 0 <= i < self.width and 0 <= j < self.height:
                    cell = self.grid.get(i, j)
                    self._obs_padded[i + size, j + size] = EMPTY_CODE if cell is None \
                        else cell.encode()
        return self._obs_padded

    def gen_obs(self):
        size = self.agent_view_size
        top_x, top_y, _, _ = self.get_view_exts()
        view = self._encoded_grid()[top_x + size:top_x + 2 * size, top_y + size:top_y + 2 * size]
        # minigrid rotates the view left (agent_dir + 1) times: the agent ends up facing "up"
        view = np.rot90(view, -(self.agent_dir + 1))
        if self.see_through_walls:
            mask = np.ones((size, size), dtype=bool)
        else:
            opaque = (view[:, :, 0] == 2) | ((view[:, :, 0] == 4) & (view[:, :, 2] != 0))
            mask = visible_cells(opaque.tolist(), size)
        image = np.where(mask[:, :, None], view, 0).astype(np.uint8)
        image[size // 2, size - 1] = self.carrying.encode() if self.carrying else EMPTY_CODE
        return {"image": image, "direction": self.agent_dir, "mission": self.mission}


def visible_cells(opaque, size: int) -> np.ndarray:
    """minigrid's ``Grid.process_vis`` on a view's opacity (lists indexed [x][y]); agent at
    the bottom middle. Light spreads row by row upwards, left-to-right then right-to-left."""
    mask = [[False] * size for _ in range(size)]
    mask[size // 2][size - 1] = True
    for j in range(size - 1, -1, -1):
        for i in range(size - 1):
            if mask[i][j] and not opaque[i][j]:
                mask[i + 1][j] = True
                if j > 0:
                    mask[i + 1][j - 1] = mask[i][j - 1] = True
        for i in range(size - 1, 0, -1):
            if mask[i][j] and not opaque[i][j]:
                mask[i - 1][j] = True
                if j > 0:
                    mask[i - 1][j - 1] = mask[i][j - 1] = True
    return np.array(mask, dtype=bool)


@functools.cache
def fast_observation_class(env_class: type) -> type:
    """``env_class`` with the faster, identical ``gen_obs``."""
    name = f"Fast{env_class.__name__}"
    return type(name, (FastObservation, env_class), {"__module__": __name__, "__qualname__": name})


def __getattr__(name: str):
    # Lets pickle find the generated classes (``babyai.levels.fastobs.Fast<Level>``).
    if name.startswith("Fast"):
        from babyai.levels import compat

        inner = getattr(compat, name[4:], None) or getattr(minigrid_levels, name[4:], None)
        if isinstance(inner, type):
            return fast_observation_class(inner)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
