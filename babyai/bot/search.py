"""Breadth-first search over the grid, shared by all the path queries of one planning step.

The BabyAI bot searches from the agent's position many times per step (for its target, for each
candidate object, for unseen cells, for a free cell to drop something). Within a step the grid,
the seen cells and the start are fixed, so every search visits cells in the same order and only
stops at a different place. ``Traversal`` runs that search once, lazily, and answers each query
by scanning its visit order: the same answers as separate searches, at a fraction of the cost.
Cells are numbered ``j * width + i``.
"""

from __future__ import annotations

from collections import deque

FREE, STOP, BLOCKER = 0, 1, 2  # walk through / never cross (wall, closed door) / an object
UNVISITED = -2
# For each heading (dx, dy): the neighbours in the order the original bot queued them
# (straight on first), as (dx, dy) pairs.
NEIGHBOURS = {
    (di, dj): ((di, dj), (dj, di), (-dj, -di), (-di, -dj))
    for di, dj in ((1, 0), (0, 1), (-1, 0), (0, -1))
}


def cell_kinds(grid) -> list:
    """FREE / STOP / BLOCKER for every cell of the grid."""
    kinds = []
    for cell in grid.grid:
        if cell is None:
            kinds.append(FREE)
        elif cell.type == "wall":
            kinds.append(STOP)
        elif cell.type == "door":
            kinds.append(FREE if cell.is_open else STOP)
        else:
            kinds.append(BLOCKER)
    return kinds


class Traversal:
    """Cells in the order BFS visits them. Unseen cells are visited but not expanded;
    objects are walked through only with ``ignore_blockers``."""

    def __init__(self, grid, kinds, seen, starts, ignore_blockers: bool):
        self.cells, self.width, self.kinds, self.seen = grid.grid, grid.width, kinds, seen
        self.stop = (STOP,) if ignore_blockers else (STOP, BLOCKER)
        # queue entries: (cell number, heading, previous cell number or -1)
        self.queue = deque((j * self.width + i, (di, dj), -1) for i, j, di, dj in starts)
        self.previous = [UNVISITED] * len(self.cells)
        self.order = []  # cell numbers in visit order
        self.rank = {}  # cell number -> index in ``order``

    def _advance(self) -> bool:
        """Visit the next cell; False when the search is exhausted."""
        queue, previous, width = self.queue, self.previous, self.width
        while queue:
            p, heading, prev = queue.popleft()
            if previous[p] != UNVISITED:
                continue
            previous[p] = prev
            self.rank[p] = len(self.order)
            self.order.append(p)
            if self.seen[p] and self.kinds[p] not in self.stop:
                for k, l in NEIGHBOURS[heading]:
                    q = p + l * width + k
                    if previous[q] == UNVISITED:
                        queue.append((q, (k, l), p))
            return True
        return False

    def find(self, accept, start: int = 0):
        """The first visited position (from the ``start``-th) where ``accept(pos, cell)``."""
        order, cells, width, k = self.order, self.cells, self.width, start
        while True:
            while k >= len(order):
                if not self._advance():
                    return None
            p = order[k]
            if accept((p % width, p // width), cells[p]):
                return p % width, p // width
            k += 1

    def find_position(self, target, start: int = 0):
        """``target`` if the search reaches it at or after the ``start``-th visit, else None."""
        p = target[1] * self.width + target[0]
        while p not in self.rank and self._advance():
            pass
        return target if self.rank.get(p, -1) >= start else None

    def exhaust(self) -> None:
        while self._advance():
            pass

    def visited(self) -> list:
        """Every position visited so far, in order."""
        return [(p % self.width, p // self.width) for p in self.order]

    def path_back(self, pos) -> list:
        """[pos, its predecessor, ..., a start]."""
        width = self.width
        p, path = pos[1] * width + pos[0], []
        while p >= 0:
            path.append((p % width, p // width))
            p = self.previous[p]
        return path
