"""Many BabyAI levels stepped together: in this process (``EnvHost``) or in worker processes
(``WorkerPool``, each worker owning a contiguous slice of the levels and an ``EnvHost`` for it).

Besides the observation, reward and end of every step, a host reports what the evaluations need
from inside the level: the object interaction the action caused (pickup, drop, toggle, with the
object's colour and type), the objects the mission's "pick up" instructions request, and, when asked, the
oracle's action and thought for the current state (the oracle follows the actions actually taken)
and a rendered RGB frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from minigrid.core.actions import Actions

from babyai.workers import process_context


@dataclass
class HostConfig:
    level: str
    seeding: str = "legacy"
    oracle: bool = False  # run the oracle alongside each level
    tile_size: int = 0  # render a frame of the whole level each step (0: no frames)
    max_steps: int | None = None  # end episodes after at most this many steps (None: the level's own limit)


@dataclass
class Reply:
    """What a host reports for the levels it was asked to reset or step (aligned with its indices)."""

    images: np.ndarray  # (k, 7, 7, 3) uint8
    directions: np.ndarray  # (k,) int64
    rewards: np.ndarray  # (k,) float64
    dones: np.ndarray  # (k,) bool
    missions: list[str] = field(default_factory=list)  # on reset only
    requested: list[list] = field(default_factory=list)  # on reset only: [[color or None, type], ...] per level
    interactions: list[dict | None] = field(default_factory=list)  # on step only
    oracle_actions: list[int | None] = field(default_factory=list)
    oracle_thoughts: list[str | None] = field(default_factory=list)
    oracle_errors: list[str | None] = field(default_factory=list)
    frames: list[np.ndarray | None] = field(default_factory=list)


def requested_objects(instr) -> list[list]:
    """[[color or None, type], ...]: the objects a mission's "pick up" instructions ask for, walking its
    instruction tree (put-next instructions do not count: their object is moved, not requested)."""
    from minigrid.envs.babyai.core.verifier import PickupInstr

    if isinstance(instr, PickupInstr):
        return [[instr.desc.color, instr.desc.type]]
    out = []
    for child in ("instr_a", "instr_b"):
        if hasattr(instr, child):
            out.extend(requested_objects(getattr(instr, child)))
    return out


def _door_state(obj) -> tuple | None:
    return (obj.is_open, obj.is_locked) if obj is not None and obj.type == "door" else None


def interaction(env, action: int, before: tuple) -> dict | None:
    """The object interaction ``action`` caused, from the state ``before`` it (see ``_before``), or None."""
    carrying, front, door = before
    if action == Actions.pickup and carrying is None and env.carrying is not None:
        return {"verb": "pickup", "color": env.carrying.color, "type": env.carrying.type}
    if action == Actions.drop and carrying is not None and env.carrying is None:
        return {"verb": "drop", "color": carrying.color, "type": carrying.type}
    if action == Actions.toggle and front is not None:
        after = env.grid.get(*env.front_pos)
        if front.type == "door" and _door_state(after) != door:
            detail = "close" if door[0] else ("unlock" if door[1] else "open")
            return {"verb": "toggle", "color": front.color, "type": "door", "detail": detail}
        if front.type == "box" and after is not front:
            return {"verb": "toggle", "color": front.color, "type": "box", "detail": "open"}
    return None


def _before(env) -> tuple:
    front = env.grid.get(*env.front_pos)
    return env.carrying, front, _door_state(front)


class EnvHost:
    """A list of levels of one kind, reset with given seeds and stepped with given actions."""

    def __init__(self, cfg: HostConfig, count: int = 0):
        from babyai.levels import make_env

        self.cfg = cfg
        self.envs = [make_env(cfg.level, seeding=cfg.seeding) for _ in range(count)]
        self.bots: list = [None] * count
        self.oracle_error: list[str | None] = [None] * count

    def _grow(self, count: int) -> None:
        from babyai.levels import make_env

        while len(self.envs) < count:
            self.envs.append(make_env(self.cfg.level, seeding=self.cfg.seeding))
            self.bots.append(None)
            self.oracle_error.append(None)

    def reset(self, seeds: list[int]) -> Reply:
        """Level i is reset with seeds[i] (levels are created as needed); returns the first observations."""
        from babyai.levels import reset_env

        self._grow(len(seeds))
        obs = [reset_env(env, int(s)) for env, s in zip(self.envs, seeds)]
        if self.cfg.max_steps is not None:
            for env in self.envs[: len(seeds)]:
                env.unwrapped.max_steps = min(env.unwrapped.max_steps, self.cfg.max_steps)
        reply = self._reply(range(len(seeds)), obs, np.zeros(len(seeds)), np.zeros(len(seeds), bool))
        reply.missions = [o["mission"] for o in obs]
        reply.requested = [requested_objects(env.instrs) for env in self.envs[: len(seeds)]]
        if self.cfg.oracle:
            from babyai.bot import Bot

            self.bots[: len(seeds)] = [Bot(env) for env in self.envs[: len(seeds)]]
            self.oracle_error[: len(seeds)] = [None] * len(seeds)
            self._oracle(reply, range(len(seeds)), obs, [None] * len(seeds))
        return reply

    def step(self, index: np.ndarray, actions: np.ndarray) -> Reply:
        """Step level index[j] with actions[j]."""
        obs, rewards, dones, inter = [], np.zeros(len(index)), np.zeros(len(index), bool), []
        for j, (i, a) in enumerate(zip(index.tolist(), actions.tolist())):
            env = self.envs[i]
            before = _before(env)
            o, r, terminated, truncated, _ = env.step(a)
            obs.append(o)
            rewards[j], dones[j] = r, terminated or truncated
            inter.append(interaction(env, a, before))
        reply = self._reply(index, obs, rewards, dones)
        reply.interactions = inter
        if self.cfg.oracle:
            self._oracle(reply, index, obs, actions.tolist(), dones)
        return reply

    def close(self) -> None:
        self.envs, self.bots = [], []

    def _reply(self, index, obs, rewards, dones) -> Reply:
        reply = Reply(np.stack([o["image"] for o in obs]).astype(np.uint8) if obs else np.zeros((0, 7, 7, 3), np.uint8),
                      np.array([o["direction"] for o in obs], dtype=np.int64), rewards, dones)
        if self.cfg.tile_size:
            reply.frames = [self.envs[i].get_frame(highlight=True, tile_size=self.cfg.tile_size, agent_pov=False)
                            for i in index]
        return reply

    def _oracle(self, reply: Reply, index, obs, actions, dones=None) -> None:
        """The oracle's (action, thought) for each level's current state, after it saw the action taken."""
        from babyai.bot import BotError

        for j, i in enumerate(index):
            action = thought = None
            if self.bots[i] is not None and not (dones is not None and dones[j]):
                try:
                    action, thought = self.bots[i].replan(actions[j], obs[j]["image"])
                except BotError as e:
                    # the oracle cannot follow every agent (e.g. a box it did not open): it stops for this level
                    self.bots[i], self.oracle_error[i] = None, f"{type(e).__name__}: {e}"
            reply.oracle_actions.append(action)
            reply.oracle_thoughts.append(thought)
            reply.oracle_errors.append(self.oracle_error[i])


# ------------------------------------------------------------------ workers
def _worker(conn, cfg: HostConfig) -> None:
    host = EnvHost(cfg)
    try:
        while True:
            command, payload = conn.recv()
            if command == "reset":
                conn.send(host.reset(payload))
            elif command == "step":
                conn.send(host.step(*payload))
            else:
                break
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        conn.close()


class WorkerPool:
    """``workers`` processes, each owning a contiguous slice of the levels; same interface as EnvHost."""

    def __init__(self, cfg: HostConfig, workers: int):
        ctx = process_context()
        self.conns, self.procs = [], []
        for _ in range(workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(child, cfg), daemon=True)
            proc.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(proc)
        self.bounds = [0] * (workers + 1)

    def reset(self, seeds: list[int]) -> Reply:
        w = len(self.conns)
        self.bounds = [len(seeds) * k // w for k in range(w + 1)]
        used = [k for k in range(w) if self.bounds[k + 1] > self.bounds[k]]
        for k in used:
            self.conns[k].send(("reset", list(seeds[self.bounds[k] : self.bounds[k + 1]])))
        return _merge([self._recv(k) for k in used])

    def step(self, index: np.ndarray, actions: np.ndarray) -> Reply:
        parts = []
        for k in range(len(self.conns)):
            lo, hi = self.bounds[k], self.bounds[k + 1]
            mask = (index >= lo) & (index < hi)
            if mask.any():
                self.conns[k].send(("step", (index[mask] - lo, actions[mask])))
                parts.append(k)
        # index is sorted, so the workers' replies come back in the order of index
        return _merge([self._recv(k) for k in parts])

    def _recv(self, k: int) -> Reply:
        try:
            return self.conns[k].recv()
        except EOFError:
            raise RuntimeError(f"evaluation worker {k} died (exit code {self.procs[k].exitcode})") from None

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(("close", None))
            except (BrokenPipeError, OSError):
                pass
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
        for conn in self.conns:
            conn.close()


def _merge(parts: list[Reply]) -> Reply:
    if len(parts) == 1:
        return parts[0]
    out = Reply(np.concatenate([p.images for p in parts]), np.concatenate([p.directions for p in parts]),
                np.concatenate([p.rewards for p in parts]), np.concatenate([p.dones for p in parts]))
    for name in ("missions", "requested", "interactions", "oracle_actions", "oracle_thoughts", "oracle_errors", "frames"):
        setattr(out, name, [x for p in parts for x in getattr(p, name)])
    return out


def make_host(cfg: HostConfig, workers: int):
    """An in-process host for ``workers`` <= 1, else a pool of worker processes."""
    return WorkerPool(cfg, workers) if workers > 1 else EnvHost(cfg)
