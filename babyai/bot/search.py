"""Breadth-first search over the grid, shared by all the path queries of one planning step.

The BabyAI bot searches from the agent's position many times per step (for its target, for each
candidate object, for unseen cells, for a free cell to drop something). Within a step the grid,
the seen cells and the start are fixed, so every search visits cells in the same order and only
stops at a different place. ``Traversal`` runs that search once, lazily, and answers each query
by scanning its visit order: the same answers as separate searches, at a fraction of the cost.
Cells are numbered ``j * width + i``; headings are numbered as in ``HEADINGS``.
"""

from __future__ import annotations

import functools

FREE, BLOCKER, STOP = 0, 1, 2  # walk through / an object / never cross (wall, closed door)
UNVISITED = -2
HEADINGS = ((1, 0), (0, 1), (-1, 0), (0, -1))  # (dx, dy), in minigrid's direction order


@functools.cache
def neighbours(width: int) -> tuple:
    """For each heading: the neighbours of a cell in the order the original bot queued them
    (straight on first), as (cell number offset, heading) pairs."""
    table = []
    for di, dj in HEADINGS:
        steps = ((di, dj), (dj, di), (-dj, -di), (-di, -dj))
        table.append(tuple((l * width + k, HEADINGS.index((k, l))) for k, l in steps))
    return tuple(table)


def cell_kind(cell) -> int:
    """FREE, BLOCKER or STOP."""
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
    objects are walked through only with ``ignore_blockers``.

    A cell is queued once, when first reached: its predecessor and heading are those of the
    first entry the original bot (which queued a cell again from every neighbour and skipped
    it when visited) dequeued, so the visit order and the paths are the same.
    """

    def __init__(self, grid, kinds, seen, starts, ignore_blockers: bool):
        """``starts``: (cell number, heading) pairs, visited first in this order."""
        self.cells, self.width, self.kinds, self.seen = grid.grid, grid.width, kinds, seen
        self.limit = STOP if ignore_blockers else BLOCKER  # cells of a lower kind are expanded
        self.neighbours = neighbours(grid.width)
        n = len(self.cells)
        self.previous = [UNVISITED] * n  # the cell each was reached from (-1: a start)
        self.heading = [0] * n
        self.rank = [-1] * n  # index in ``queue``
        self.queue = []  # cells in the order reached; the first ``count`` have been visited
        self.count = 0
        for p, h in starts:
            if self.previous[p] == UNVISITED:
                self.previous[p], self.heading[p], self.rank[p] = -1, h, len(self.queue)
                self.queue.append(p)

    def _grow(self, target: int = -1, accept=None, skip: int = 0):
        """Visit cells until ``target`` (a cell number) or a cell where ``accept(pos, cell)``
        is visited (cells visited before the ``skip``-th are not tested); that cell's number,
        or None when the search is exhausted first."""
        queue, previous, heading, rank = self.queue, self.previous, self.heading, self.rank
        seen, kinds, limit, table = self.seen, self.kinds, self.limit, self.neighbours
        cells, width, count = self.cells, self.width, self.count
        try:
            while count < len(queue):
                p = queue[count]
                count += 1
                if seen[p] and kinds[p] < limit:
                    for offset, h in table[heading[p]]:
                        q = p + offset
                        if previous[q] == UNVISITED:
                            previous[q], heading[q], rank[q] = p, h, len(queue)
                            queue.append(q)
                if count > skip and (p == target or (
                        accept is not None and accept((p % width, p // width), cells[p]))):
                    return p
            return None
        finally:
            self.count = count

    def find(self, accept, start: int = 0):
        """The first visited position (from the ``start``-th) where ``accept(pos, cell)``."""
        cells, width = self.cells, self.width
        for p in self.queue[start:self.count]:
            if accept((p % width, p // width), cells[p]):
                return p % width, p // width
        p = self._grow(accept=accept, skip=start)
        return None if p is None else (p % width, p // width)

    def find_position(self, target, start: int = 0):
        """``target`` if the search reaches it at or after the ``start``-th visit, else None."""
        p = target[1] * self.width + target[0]
        if not 0 <= p < len(self.rank):  # off the grid: never reached
            self._grow()
            return None
        if not 0 <= self.rank[p] < self.count:
            self._grow(target=p)
        return target if self.count > self.rank[p] >= start else None

    def exhaust(self) -> None:
        self._grow()

    def visited(self) -> list:
        """Every cell number visited so far, in order."""
        return self.queue[:self.count]

    def path_back(self, pos) -> list:
        """[pos, its predecessor, ..., a start]."""
        width = self.width
        p, path = pos[1] * width + pos[0], []
        while p >= 0:
            path.append((p % width, p // width))
            p = self.previous[p]
        return path
