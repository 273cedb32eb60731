"""The oracle: the BabyAI bot's planner, which also says what it is thinking at every step.

``Bot(env).replan(action_taken)`` returns ``(action, thought)``. The bot keeps a stack of
subgoals, replans after every action (also after actions it did not choose, so it recovers
from noise), and describes the subgoal on top of the stack as the thought.
"""

from __future__ import annotations

import numpy as np
from minigrid.envs.babyai.core.verifier import (
    AfterInstr,
    AndInstr,
    BeforeInstr,
    GoToInstr,
    OpenInstr,
    PickupInstr,
    PutNextInstr,
)

from babyai.bot.search import HEADINGS, Traversal, cell_kind, cell_kinds
from babyai.bot.subgoals import (
    DONE,
    TOGGLE,
    BotError,
    Drop,
    GoNextTo,
    Open,
    Pickup,
    require,
)
from babyai.bot.thoughts import describe
from babyai.levels.fastobs import view_cells

# cells around a drop candidate, in ring order
RING = ((-1, -1), (0, -1), (1, -1), (1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0))

# The planner's work is counted in subgoal expansions (``before_action`` calls). On the reference
# seeds (500 BossLevel, 100 of each of 20 levels) a step takes at most 5 and an episode at most
# 562; some levels (UnlockToUnlock: a key behind the door it opens) make the original bot push
# subgoals forever inside one step. Past these bounds the bot gives up with a BotError.
MAX_STEP_WORK = 100
MAX_EPISODE_WORK = 20_000


class Bot:
    """Plans for a freshly reset BabyAI level ``env`` and explains each action with a thought.

    Call ``replan`` once after every env step (the bot keeps track of the grid incrementally,
    as the original required), passing the action actually taken.
    """

    def __init__(self, env, max_step_work: int = MAX_STEP_WORK,
                 max_episode_work: int = MAX_EPISODE_WORK):
        self.env = env
        self.max_step_work, self.max_episode_work = max_step_work, max_episode_work
        self.work = 0  # subgoal expansions so far this episode
        self.width, self.height = env.width, env.height
        # the seen cells, padded by the view size on every side as the agent's view may leave
        # the grid (see ``babyai.levels.fastobs.view_cells``); vis_mask is the grid's part
        pad = env.agent_view_size
        padded = np.zeros((self.width + 2 * pad, self.height + 2 * pad), dtype=bool)
        self._seen_padded, self.vis_mask = padded.reshape(-1), padded[pad:-pad, pad:-pad]
        self.stack = []
        self.prev_agent_pos = None
        self.prev_carrying = None
        self.prev_fwd_cell = None
        self.fwd_door_was_open = None
        self._kinds, self._kinds_grid = None, None  # see _update_kinds
        self._plan_instr(env.instrs)

    # ----------------------------------------------------------------- the step
    def replan(self, action_taken=None, obs_image=None):
        """Update the plan for the action just taken and return ``(action, thought)``.

        ``obs_image``: the observation the env returned for the current state, if at hand
        (saves recomputing the agent's view). Raises BotError when the original bot failed.
        """
        try:
            self._observe(obs_image)
            if (action_taken == TOGGLE and self.prev_fwd_cell is not None
                    and self.prev_fwd_cell.type == "box"):
                raise BotError("a box was opened: the bot cannot tell what it held")
            self._read_agent_state()
            self._searches = {}
            if self.stack:
                self.stack[-1].after_action(action_taken)
            while self.stack and self.stack[-1].exploratory:
                self.stack.pop()
            action, step_work = None, 0
            while self.stack:
                step_work += 1
                self._check_work(step_work)
                action = self.stack[-1].before_action()
                if action is not None:
                    break
            if not self.stack:
                action = DONE
            self._remember_state()
            return int(action), describe(self)
        except BotError:
            raise
        except Exception as error:  # the original bot failed the same way; record it as such
            raise BotError(f"{type(error).__name__}: {error}") from error

    def _check_work(self, step_work: int) -> None:
        """Count one subgoal expansion; a BotError once a step or the episode takes too many."""
        self.work += 1
        require(step_work <= self.max_step_work,
                f"no plan after {self.max_step_work} subgoal expansions in one step "
                f"(stack of {len(self.stack)} subgoals)")
        require(self.work <= self.max_episode_work,
                f"no plan within {self.max_episode_work} subgoal expansions in the episode")

    # ------------------------------------------------------------- perception
    def _observe(self, obs_image):
        """Mark every cell in the agent's view as seen."""
        if obs_image is None:
            _, view_mask = self.env.gen_obs_grid()
        else:
            view_mask = obs_image[:, :, 0] != 0  # unseen cells encode as all zeros
        self._seen_padded[view_cells(self.env)[view_mask]] = True

    def _read_agent_state(self):
        env = self.env
        self.pos = np.array(env.agent_pos)
        self.dir_vec = np.array(env.dir_vec)
        self.right_vec = np.array(env.right_vec)
        self.fwd_pos = self.pos + self.dir_vec
        # the same as plain ints, for cheap comparisons
        self.xy = (int(self.pos[0]), int(self.pos[1]))
        self.fwd_xy = (int(self.fwd_pos[0]), int(self.fwd_pos[1]))
        self.right_xy = (int(self.right_vec[0]), int(self.right_vec[1]))
        self.fwd_cell = self.env.grid.get(*self.fwd_xy)
        self.carrying = env.carrying

    def _remember_state(self):
        self.prev_agent_pos = self.pos
        self.prev_carrying = self.carrying
        if self.fwd_cell is not None and self.fwd_cell.type == "door":
            self.fwd_door_was_open = self.fwd_cell.is_open
        self.prev_fwd_cell = self.fwd_cell

    def cell(self, pos):
        return self.env.grid.get(int(pos[0]), int(pos[1]))

    # ------------------------------------------------------------- the mission
    def _plan_instr(self, instr):
        """Push the subgoals that carry out an instruction (last pushed runs first)."""
        if isinstance(instr, GoToInstr):
            self.stack.append(GoNextTo(self, instr.desc, note="to complete GoTo mission"))
        elif isinstance(instr, OpenInstr):
            self.stack.append(Open(self, note="to complete open mission"))
            self.stack.append(GoNextTo(self, instr.desc, reason="Open", note="to open it"))
        elif isinstance(instr, PickupInstr):
            # pick up, then drop at once so other objects can be carried later
            self.stack.append(Drop(self, note="after pickup mission"))
            self.stack.append(Pickup(self, note="to complete pickup mission"))
            self.stack.append(GoNextTo(self, instr.desc, note="to pick it up"))
        elif isinstance(instr, PutNextInstr):
            self.stack.append(Drop(self, note="to complete PutNext mission"))
            self.stack.append(GoNextTo(self, instr.desc_fixed, reason="PutNext", note="to drop it"))
            self.stack.append(Pickup(self, note="to complete PutNext mission"))
            self.stack.append(GoNextTo(self, instr.desc_move, note="to pick it up"))
        elif isinstance(instr, (BeforeInstr, AndInstr)):
            self._plan_instr(instr.instr_b)
            self._plan_instr(instr.instr_a)
        elif isinstance(instr, AfterInstr):
            self._plan_instr(instr.instr_a)
            self._plan_instr(instr.instr_b)
        else:
            raise BotError(f"unknown instruction type {type(instr).__name__}")

    # ------------------------------------------------------------- search
    def _traversal(self, ignore_blockers: bool) -> Traversal:
        """This step's BFS from the agent (without blockers), or from every cell that one
        reached (with blockers); made once per step, extended as queries need."""
        key = bool(ignore_blockers)
        if key not in self._searches:
            if ignore_blockers:
                clear = self._traversal(False)
                clear.exhaust()
                starts = [(p, 0) for p in clear.visited()]  # all heading east
            else:
                x, y = self.xy
                heading = HEADINGS.index((self.fwd_xy[0] - x, self.fwd_xy[1] - y))
                starts = [(y * self.width + x, heading)]
                self._update_kinds()
                self._seen = self.vis_mask.T.ravel().tolist()  # by cell number j * width + i
            self._searches[key] = Traversal(self.env.grid, self._kinds, self._seen, starts,
                                            ignore_blockers)
        return self._searches[key]

    def _update_kinds(self):
        """Keep ``cell_kinds`` of the grid current: an action changes at most the cell in front
        (pickup, drop, toggle), so only it (and the agent's) is looked at after the first step."""
        if self._kinds is None or self._kinds_grid is not self.env.grid:
            self._kinds, self._kinds_grid = cell_kinds(self.env.grid), self.env.grid
        else:
            for x, y in (self.fwd_pos, self.pos):
                p = int(y) * self.width + int(x)
                self._kinds[p] = cell_kind(self.env.grid.grid[p])

    def shortest_path(self, accept, try_with_blockers=False, target=None):
        """Path (excluding the agent's cell) to the nearest cell where ``accept(pos, cell)``
        (or to ``target``); paths through blocking objects are tried only if no clear path
        exists. Returns (path, found position, whether the path goes through blockers)."""
        clear = self._traversal(False)
        found = clear.find_position(target) if target is not None else clear.find(accept)
        with_blockers, path = False, None
        if found is not None:
            path = clear.path_back(found)
        elif try_with_blockers:
            with_blockers = True
            blocked = self._traversal(True)
            # its first visits are the cells of the clear search, where nothing was accepted
            skip = clear.count
            found = (blocked.find_position(target, skip) if target is not None
                     else blocked.find(accept, skip))
            if found is not None:
                path = blocked.path_back(found)
                path = path + clear.path_back(path[-1])[1:]
        if path:
            path = path[::-1][1:]
        return path, found, with_blockers

    def find_obj_pos(self, desc, adjacent=False):
        """The closest seen object matching ``desc`` and its position (None, None if none)."""
        require(len(desc.obj_set) > 0, "no object matches the description")
        best_distance, best_pos, best_obj = 999, None, None
        carrying = self.carrying
        for i, obj in enumerate(desc.obj_set):
            if obj is carrying:
                continue
            if i >= len(desc.obj_poss):  # an object used up (e.g. a key carried through a door)
                continue
            obj_pos = desc.obj_poss[i]
            if not self.vis_mask[obj_pos]:
                continue
            path, _, with_blockers = self.shortest_path(None, try_with_blockers=True,
                                                        target=tuple(map(int, obj_pos)))
            require(path is not None, "no path to a seen object")
            distance = len(path)
            if with_blockers:
                # lower bound on the steps to clear the way: 4 (pick, turn, drop, turn back),
                # 7 when carrying something
                distance = len(path) + (7 if carrying else 4)
            if distance == 0:  # standing in the doorway we look for
                distance = 3 if adjacent else 2
            if adjacent and distance == 1:
                distance = 3
            if distance < best_distance:
                best_distance, best_pos, best_obj = distance, obj_pos, obj
        return best_obj, best_pos

    def find_drop_pos(self, except_pos=None):
        """A seen empty cell to drop something in, ideally one that blocks nothing."""
        cells, width, seen = self.env.grid.grid, self.width, self.vis_mask
        agent_pos = self.xy

        def free(pos, cell):
            if pos == agent_pos or (except_pos and np.array_equal(pos, except_pos)):
                return False
            return seen[pos] and cell is None

        def unblocking(pos, cell):
            if not free(pos, cell):
                return False
            i, j = pos
            # ring classes: 0 empty (or open door, or the agent), 1 seen wall, 2 anything else
            classes = []
            for k, l in RING:
                nb = (i + k, j + l)
                nb_cell = cells[nb[1] * width + nb[0]]
                if seen[nb] and nb_cell is not None and nb_cell.type == "wall":
                    classes.append(1)
                elif (seen[nb] and (nb_cell is None or (nb_cell.type == "door" and nb_cell.is_open)
                                    or nb == agent_pos) and nb != except_pos):
                    classes.append(0)
                else:
                    classes.append(2)
            # the empty cells around must stay connected...
            changes = sum(bool(classes[(k + 1) % 8]) != bool(classes[k]) for k in range(8))
            # ...and every object cell must keep an empty neighbour
            for k in range(8):
                if classes[k] == 2 and classes[k - 1] != 0 and classes[(k + 1) % 8] != 0:
                    return False
            return changes <= 2

        for accept, blockers in ((unblocking, False), (free, False), (unblocking, True),
                                 (free, True)):
            _, drop_pos, _ = self.shortest_path(accept, try_with_blockers=blockers)
            if drop_pos:
                return drop_pos
        return None

    def distance_to_wall(self, direction):
        """Steps from the agent along ``direction`` to the first wall or door within view."""
        distance = 1
        while True:
            x, y = self.pos + distance * direction
            if not self.env.in_view(x, y):
                return distance - 1
            cell = self.env.grid.get(int(x), int(y))
            if cell and (cell.type.endswith("door") or cell.type == "wall"):
                return distance
            distance += 1
