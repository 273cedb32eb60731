"""Demonstrations for training: a lazy episode index, the epoch order, and batches laid out by time step.

Only the per-episode lengths are held in memory; the episodes of a batch are read from disk when
the batch is built (by a background thread, one batch ahead of training).

A batch packs its episodes into *lanes*: each lane plays a few episodes one after the other (the
memory restarts at each episode's first frame), and the lanes are filled longest episode first,
each into the lane with the fewest frames so far, so that they end at nearly the same step. The
frames are laid out step-major: all lanes' frames of step 0 (longest lane first), then step 1 for
the lanes still running, and so on, so a truncated-BPTT window is one contiguous slice. With one
episode per lane the last steps of a batch hold only its longest episodes; with lanes nearly every
step holds a frame of every lane, which is what the BatchNorm layers called at every step need to
normalise over the batch (the original laid its windows flat for the same effect).
"""

from __future__ import annotations

import heapq
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from babyai.agent.vocab import Vocabulary, VocabularyError, pad_ids
from babyai.model.config import PAD_ID


class DatasetError(ValueError):
    """A demonstration dataset that is missing, corrupt or unusable."""


def open_dataset(path: str):
    """Open a demonstration dataset with the project's reader, with a one-line error if it cannot be."""
    from babyai.demos import open_demos  # the dataset format lives in babyai.demos

    try:
        return open_demos(path)
    except FileNotFoundError as e:
        raise DatasetError(f"no demonstrations at {path} ({e.strerror or e})") from None
    except (OSError, ValueError, KeyError) as e:
        raise DatasetError(f"cannot read the demonstrations at {path}: {e}") from None


@dataclass(frozen=True)
class Source:
    """The first ``episodes`` episodes of one dataset."""

    name: str
    reader: object  # a babyai.demos DemoReader: len(), .lengths, [i] -> Episode
    episodes: int


class EpisodeIndex:
    """Several sources seen as one list of episodes; only their lengths are held in memory."""

    def __init__(self, sources: Sequence[Source]):
        if not sources:
            raise DatasetError("no demonstrations to train on")
        self.sources = list(sources)
        self.lengths = np.concatenate([np.asarray(s.reader.lengths[: s.episodes], dtype=np.int64) for s in sources])
        self._starts = np.cumsum([0] + [s.episodes for s in sources])

    def __len__(self) -> int:
        return int(self._starts[-1])

    @property
    def num_frames(self) -> int:
        return int(self.lengths.sum())

    def episode(self, i: int):
        k = int(np.searchsorted(self._starts, i, side="right")) - 1
        return self.sources[k].reader[int(i - self._starts[k])]

    def seed_range(self) -> list[tuple[str, int, int]]:
        """(source, first seed, last seed) of each source, from its first and last episode."""
        out = []
        for s in self.sources:
            seeds = getattr(s.reader, "seeds", None)  # the reader's seed index, when it keeps one
            if seeds is not None and len(seeds) >= s.episodes:
                seeds = np.asarray(seeds[: s.episodes])
            else:
                seeds = np.array([s.reader[0].seed, s.reader[s.episodes - 1].seed])
            out.append((s.name, int(seeds.min()), int(seeds.max())))
        return out


class EpochSampler:
    """Epoch e covers episodes [e * L, (e + 1) * L) of an endless stream of shuffled passes over the data,
    so episodes are drawn without replacement across epochs; pass p is a permutation seeded by (seed, p)."""

    def __init__(self, n: int, epoch_length: int, seed: int):
        self.n, self.epoch_length, self.seed = n, epoch_length or n, seed
        self._pass, self._perm = None, None

    def _permutation(self, p: int) -> np.ndarray:
        if p != self._pass:
            self._pass, self._perm = p, np.random.default_rng([self.seed, p]).permutation(self.n)
        return self._perm

    def epoch(self, e: int) -> np.ndarray:
        start, out = e * self.epoch_length, []
        while sum(len(x) for x in out) < self.epoch_length:
            p, offset = divmod(start, self.n)
            take = min(self.epoch_length - sum(len(x) for x in out), self.n - offset)
            out.append(self._permutation(p)[offset : offset + take])
            start += take
        return np.concatenate(out)


@dataclass
class Batch:
    """B episodes in K lanes, longest lane first, frames step-major. counts[t] lanes are running at step t."""

    counts: np.ndarray  # (T,) int64, non-increasing
    images: torch.Tensor  # (F, 7, 7, 3) uint8
    actions: torch.Tensor  # (F,) int64
    thought_ids: torch.Tensor  # (F,) int64, row of each frame's thought in `thoughts`
    thoughts: torch.Tensor  # (U, Lt) int64, distinct thoughts "sos ... eos", padded
    mission: torch.Tensor  # (B, Lm) int64, padded, one row per episode (longest episode first)
    mission_lengths: torch.Tensor  # (B,) int64
    episode_ids: torch.Tensor  # (F,) int64, row of each frame's episode in `mission`
    starts: torch.Tensor  # (F,) bool, True at the first frame of each episode
    # the labels that count, when only some frames' action / thought are labels (both None: every frame's)
    action_mask: torch.Tensor | None = None  # (F,) bool
    thought_mask: torch.Tensor | None = None  # (F,) bool

    @property
    def num_frames(self) -> int:
        return int(self.images.shape[0])

    @property
    def labelled_frames(self) -> int:
        """Frames with a label that counts, an action or a thought (every frame without label masks)."""
        if self.action_mask is None:
            return self.num_frames
        return int((self.action_mask | self.thought_mask).sum())

    def label_masks(self, rows: slice) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(action mask, thought mask) of the frames ``rows``: which labels count (None: all of them)."""
        return tuple(None if m is None else m[rows] for m in (self.action_mask, self.thought_mask))

    def windows(self, recurrence: int) -> Iterator[tuple[slice, list[int]]]:
        """Truncated-BPTT windows: (frame slice, episodes running at each step of the window)."""
        offsets = np.concatenate([[0], np.cumsum(self.counts)])
        for t0 in range(0, len(self.counts), recurrence):
            t1 = min(t0 + recurrence, len(self.counts))
            yield slice(int(offsets[t0]), int(offsets[t1])), [int(c) for c in self.counts[t0:t1]]

    def window_inputs(self, rows: slice, counts: list[int]) -> dict:
        """The model's inputs for one window (see ThoughtCloningAgent.forward), memory and teacher forcing aside."""
        return dict(images=self.images[rows], counts=counts, mission=self.mission, mission_lengths=self.mission_lengths,
                    thoughts=self.thoughts, thought_ids=self.thought_ids[rows], episode_ids=self.episode_ids[rows],
                    starts=self.starts[rows])

    def pin(self) -> "Batch":
        return Batch(*(x.pin_memory() if isinstance(x, torch.Tensor) else x for x in self.__dict__.values()))

    def to(self, device: torch.device) -> "Batch":
        return Batch(
            *(x.to(device, non_blocking=True) if isinstance(x, torch.Tensor) else x for x in self.__dict__.values())
        )


class Tokenizer:
    """Missions and thoughts to token ids, each distinct string tokenised once (up to a bounded cache)."""

    CACHE = 100_000  # strings kept per kind: memory stays bounded however many episodes there are

    def __init__(self, vocab: Vocabulary, max_thought_len: int):
        self.vocab, self.max_thought_len = vocab, max_thought_len
        self._missions: dict[str, np.ndarray] = {}
        self._thoughts: dict[str, np.ndarray] = {}

    def mission(self, text: str) -> np.ndarray:
        ids = self._missions.get(text)
        if ids is None:
            ids = self.vocab.encode(text)
            if len(ids) == 0:
                raise DatasetError(f"empty mission {text!r}")
            if len(self._missions) < self.CACHE:
                self._missions[text] = ids
        return ids

    def thought(self, text: str) -> np.ndarray:
        ids = self._thoughts.get(text)
        if ids is None:
            ids = self.vocab.encode_thought(text)
            if len(ids) - 1 > self.max_thought_len:
                raise DatasetError(f"thought {text!r} is longer than the decoder's {self.max_thought_len} tokens")
            if len(self._thoughts) < self.CACHE:
                self._thoughts[text] = ids
        return ids


def pack_lanes(lengths: Sequence[int], lanes: int) -> list[list[int]]:
    """Episodes (by index into ``lengths``, sorted longest first) dealt into ``lanes`` lanes: each
    episode, longest first, goes to the lane with the fewest frames so far (the lowest such lane on
    ties). Returns the lanes, longest lane first, each a list of episode indices in playing order."""
    lanes = max(1, min(lanes, len(lengths)))
    heap = [(0, k) for k in range(lanes)]  # (frames so far, lane)
    members: list[list[int]] = [[] for _ in range(lanes)]
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        total, k = heapq.heappop(heap)
        members[k].append(i)
        heapq.heappush(heap, (total + int(lengths[i]), k))
    totals = [sum(int(lengths[i]) for i in m) for m in members]
    return [members[k] for k in sorted(range(lanes), key=lambda k: -totals[k])]


def make_batch(episodes: Sequence, tokenizer: Tokenizer, episodes_per_lane: int = 1,
               masks: Sequence | None = None) -> Batch:
    """Lay out episodes (objects with mission, images, actions, thoughts) in lanes of about
    ``episodes_per_lane`` episodes each (1: one lane per episode), step-major, longest lane first.

    masks: None (every step's action and thought are labels), or per episode a pair (action_mask,
    thought_mask) of (T,) bools, laid out as the batch's ``action_mask`` and ``thought_mask``."""
    order = sorted(range(len(episodes)), key=lambda i: -len(episodes[i].actions))
    episodes = [episodes[i] for i in order]
    masks = None if masks is None else [masks[i] for i in order]
    lengths = np.array([len(ep.actions) for ep in episodes], dtype=np.int64)
    lanes = pack_lanes(lengths, -(-len(episodes) // max(1, episodes_per_lane)))
    lane_lengths = np.array([lengths[m].sum() for m in lanes], dtype=np.int64)
    counts = (lane_lengths[None, :] > np.arange(lane_lengths[0])[:, None]).sum(1)  # (T,)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    total = int(offsets[-1])
    images = np.empty((total, 7, 7, 3), dtype=np.uint8)
    actions = np.empty(total, dtype=np.int64)
    thought_ids = np.empty(total, dtype=np.int64)
    episode_ids = np.empty(total, dtype=np.int64)
    starts = np.zeros(total, dtype=bool)
    frame_masks = None if masks is None else np.zeros((2, total), dtype=bool)  # (action, thought) per frame
    table: dict[str, int] = {}
    for k, members in enumerate(lanes):
        step = 0
        for b in members:
            ep, n = episodes[b], int(lengths[b])
            where = f"episode (level {getattr(ep, 'level', '?')}, seed {getattr(ep, 'seed', '?')})"
            if len(ep.images) != n or len(ep.thoughts) != n:
                raise DatasetError(f"{where} has {len(ep.images)} images, {n} actions and {len(ep.thoughts)} thoughts")
            pos = offsets[step : step + n] + k  # where this episode's frames go
            images[pos] = ep.images
            actions[pos] = ep.actions
            episode_ids[pos] = b
            starts[pos[0]] = True
            if frame_masks is not None:
                frame_masks[:, pos] = _episode_masks(masks[b], n, where)
            try:
                thought_ids[pos] = [table.setdefault(t, len(table)) for t in ep.thoughts]
            except TypeError:
                raise DatasetError(f"{where} has thoughts that are not strings") from None
            step += n
    try:
        missions = [tokenizer.mission(ep.mission) for ep in episodes]
        thoughts = [tokenizer.thought(t) for t in table]
    except VocabularyError as e:
        raise VocabularyError(f"{e} (in the demonstrations)") from None
    mission = pad_ids(missions)
    return Batch(
        counts=counts,
        images=torch.from_numpy(images),
        actions=torch.from_numpy(actions),
        thought_ids=torch.from_numpy(thought_ids),
        thoughts=pad_ids(thoughts),
        mission=mission,
        mission_lengths=(mission != PAD_ID).sum(1),
        episode_ids=torch.from_numpy(episode_ids),
        starts=torch.from_numpy(starts),
        action_mask=None if frame_masks is None else torch.from_numpy(frame_masks[0]),
        thought_mask=None if frame_masks is None else torch.from_numpy(frame_masks[1]),
    )


def _episode_masks(pair, n: int, where: str) -> np.ndarray:
    """One episode's (action_mask, thought_mask) as a (2, n) bool array, checked against its n steps."""
    action, thought = (np.asarray(m, dtype=bool) for m in pair)
    if action.shape != (n,) or thought.shape != (n,):
        raise DatasetError(f"{where} has {n} steps, but label masks of shapes {action.shape} and {thought.shape}")
    return np.stack([action, thought])


def split_for_rank(indices: np.ndarray, lengths: np.ndarray, rank: int, world: int) -> np.ndarray:
    """This process's share of a global batch: deal the episodes, longest first, round-robin."""
    order = indices[np.argsort(-lengths[indices], kind="stable")]
    return order[rank::world]


def batches(
    index: EpisodeIndex, epoch_indices: np.ndarray, batch_size: int, tokenizer: Tokenizer, rank: int = 0, world: int = 1,
    start: int = 0, pin: bool = False, drop_last: bool = True, episodes_per_lane: int = 1,
) -> Iterator[tuple[Batch, int]]:
    """(this process's batch, frames in the global batch) for each global batch of the epoch (the last,
    partial one only without drop_last), from batch number ``start`` on, read one batch ahead by a
    background thread."""
    num = len(epoch_indices) // batch_size if drop_last else -(-len(epoch_indices) // batch_size)
    jobs = [epoch_indices[i * batch_size : (i + 1) * batch_size] for i in range(start, num)]

    def build(global_indices: np.ndarray):
        mine = split_for_rank(global_indices, index.lengths, rank, world)
        batch = make_batch([index.episode(int(i)) for i in mine], tokenizer, episodes_per_lane)
        return (batch.pin() if pin else batch), int(index.lengths[global_indices].sum())

    yield from prefetch(build, jobs)


def prefetch(fn, jobs: Sequence, depth: int = 2) -> Iterator:
    """fn(job) for each job, computed by a background thread up to ``depth`` jobs ahead; errors re-raised here."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def worker():
        for job in jobs:
            if stop.is_set():
                return
            try:
                q.put((True, fn(job)))
            except BaseException as e:  # handed to the consumer, which re-raises it
                q.put((False, e))
                return
        q.put((True, StopIteration))

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    try:
        while True:
            ok, item = q.get()
            if not ok:
                raise item
            if item is StopIteration:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a worker waiting on a full queue
            try:
                q.get(timeout=0.1)
            except queue.Empty:
                pass
