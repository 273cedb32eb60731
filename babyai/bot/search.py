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


def cell_kind(cell) -> int:
    """FREE, STOP or BLOCKER."""
    if cell is None:
        return FREE
    if cell.type == "wall":
        return STOP
    if cell.type == "door":
        return FREE if cell.is_open else STOP
    return BLOCKER


def cell_kinds(grid) -> list:
    """``cell_kind`` of every cell of the grid, by cell number."""
    return [cell_kind(cell) for cell in grid.grid]


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

    def _grow(self, target: int = -1, accept=None, skip: int = 0):
        """Visit cells until ``target`` (a cell number) or a cell where ``accept(pos, cell)``
        is visited (cells visited before the ``skip``-th are not tested); that cell's number,
        or None when the search is exhausted first."""
        queue, previous, order, rank = self.queue, self.previous, self.order, self.rank
        seen, kinds, stop, cells, width = self.seen, self.kinds, self.stop, self.cells, self.width
        while queue:
            p, heading, prev = queue.popleft()
            if previous[p] != UNVISITED:
                continue
            previous[p] = prev
            rank[p] = len(order)
            order.append(p)
            if seen[p] and kinds[p] not in stop:
                for k, l in NEIGHBOURS[heading]:
                    q = p + l * width + k
                    if previous[q] == UNVISITED:
                        queue.append((q, (k, l), p))
            if len(order) > skip and (p == target or (
                    accept is not None and accept((p % width, p // width), cells[p]))):
                return p
        return None

    def find(self, accept, start: int = 0):
        """The first visited position (from the ``start``-th) where ``accept(pos, cell)``."""
        cells, width = self.cells, self.width
        for p in self.order[start:]:
            if accept((p % width, p // width), cells[p]):
                return p % width, p // width
        p = self._grow(accept=accept, skip=start)
        return None if p is None else (p % width, p // width)

    def find_position(self, target, start: int = 0):
        """``target`` if the search reaches it at or after the ``start``-th visit, else None."""
        p = target[1] * self.width + target[0]
        if p not in self.rank:
            self._grow(target=p)
        return target if self.rank.get(p, -1) >= start else None

    def exhaust(self) -> None:
        self._grow()

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
