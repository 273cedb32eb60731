"""A teaching session: the agent proposes a thought and an action at every step, the teacher approves,
overrides the action, or rewrites the thought (then the Action Generator acts again on the new thought),
and the performed step is recorded. Each episode is played by the newest published snapshot.

The teacher is a person on the web page (``babyai.teach.server``) or the oracle (``OracleTeacher``): it
replans from the actual state after every performed action, approves when the agent's action is its
own, overrides it otherwise, and rewrites the thought when it differs from its own (a Thought-DAgger).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from babyai.bot import Bot, BotError
from babyai.levels import make_env, reset_env
from babyai.teach.agent import Proposer, normalize_thought
from babyai.teach.data import Step, TeachingWriter, make_episode

logger = logging.getLogger(__name__)
ACTION_NAMES = ("left", "right", "forward", "pickup", "drop", "toggle", "done")


class ThoughtRefused(ValueError):
    """A rewritten thought the agent cannot read (one line for the teacher)."""


@dataclass
class Proposal:
    thought: str  # the agent's own thought for this step ("" for a BC agent)
    action: int  # the agent's action when acting on ``acting_thought``
    acting_thought: str  # the thought the Action Generator acts on (the teacher's when rewritten)

    @property
    def rewritten(self) -> bool:
        return self.acting_thought != self.thought


@dataclass
class EpisodeState:
    seed: int
    mission: str
    snapshot: int
    obs: dict
    serial: int  # episodes begun in this session before this one
    steps: list[Step] = field(default_factory=list)
    reward: float = 0.0


class TeachingSession:
    """The session loop, driven step by step (by the oracle or by the page).

    ``snapshots`` gives the newest snapshot at each episode start: ``snapshots.latest_policy()`` ->
    (version, ModelPolicy). ``episodes``: end after this many episodes in total (0: until ``end()``).
    """

    def __init__(self, level: str, writer: TeachingWriter, snapshots, teacher: str, first_seed: int = 0,
                 episodes: int = 0, seeding: str = "legacy", tile_size: int = 0, on_episode=None):
        self.level, self.writer, self.snapshots, self.teacher = level, writer, snapshots, teacher
        self.first_seed, self.episodes, self.seeding, self.tile_size = first_seed, episodes, seeding, tile_size
        self.on_episode = on_episode  # called with each finished episode's CSV row
        self.env = make_env(level, seeding=seeding)
        self.episode: EpisodeState | None = None
        self.begun = 0
        self.proposal: Proposal | None = None
        self.ended = self.done
        if not self.ended:
            self._begin(writer.next_seed(first_seed))

    @property
    def thinks(self) -> bool:
        return self._agent.thinks

    @property
    def done(self) -> bool:
        return bool(self.episodes) and self.writer.num_episodes >= self.episodes

    # ------------------------------------------------------------------ episodes
    def _begin(self, seed: int) -> None:
        version, policy = self.snapshots.latest_policy(self.writer.num_episodes)
        obs = reset_env(self.env, seed)
        self.episode = EpisodeState(seed, obs["mission"], version, obs, self.begun)
        self.begun += 1
        self._agent = Proposer(policy, obs["mission"])
        self._propose(None)

    def _propose(self, thought: str | None) -> None:
        own = self.proposal.thought if thought is not None else None
        acted_on, action = self._agent.propose(self.episode.obs["image"], thought)
        if thought is None:
            own = acted_on or ""
        self.proposal = Proposal(own, action, acted_on or "")

    def _finish(self, ended: str) -> dict | None:
        """Record the episode being played (if it has steps); returns its CSV row."""
        ep, row = self.episode, None
        if ep is not None and ep.steps:
            record = make_episode(self.level, ep.seed, ep.mission, ep.steps, ep.reward > 0, ep.snapshot,
                                  self.teacher, ended, self.seeding)
            row = self.writer.add(record)
            log = logger.info if self.teacher == "human" else logger.debug  # the oracle's progress: a bar
            log("episode %d (seed %d, snapshot %d): %d steps, %d action / %d thought overrides, %s",
                        row["episode"], ep.seed, ep.snapshot, row["steps"], row["action_overrides"],
                        row["thought_overrides"], "success" if row["success"] else ended)
            if self.on_episode is not None:
                self.on_episode(row)
        self.episode, self.proposal = None, None
        return row

    # ------------------------------------------------------------------ the teacher's moves
    def rewrite_thought(self, sentence: str) -> None:
        """The Action Generator acts on ``sentence`` at this step (raises ThoughtRefused)."""
        sentence = normalize_thought(sentence)
        if not self._agent.thinks:
            raise ThoughtRefused("this is a Behavioral Cloning agent: it has no thought to rewrite")
        if not sentence:
            raise ThoughtRefused("the thought is empty")
        unknown = self._agent.unknown_words(sentence)
        if unknown:
            shown = [w if len(w) <= 40 else w[:40] + "..." for w in unknown[:5]]  # a page shows a line, not megabytes
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            raise ThoughtRefused(f"not in the agent's vocabulary: {', '.join(shown)}{more}")
        if self._agent.too_long(sentence):
            raise ThoughtRefused("the thought is longer than the agent can read")
        self._propose(sentence)

    def act(self, action: int | None = None) -> dict | None:
        """Perform ``action`` (None: approve the proposal); returns the CSV row when the episode ended."""
        if not 0 <= (action if action is not None else 0) < len(ACTION_NAMES):
            raise ValueError(f"no action {action}")
        ep, prop = self.episode, self.proposal
        performed = prop.action if action is None else int(action)
        ep.steps.append(Step(ep.obs["image"].copy(), int(ep.obs["direction"]), prop.thought, prop.action,
                             prop.acting_thought, performed))
        self._agent.commit()
        ep.obs, reward, terminated, truncated, _ = self.env.step(performed)
        ep.reward += float(reward)
        if terminated or truncated:
            return self.next_episode("done" if terminated else "step limit")
        self._propose(None)
        return None

    def next_episode(self, ended: str, replay: bool = False) -> dict | None:
        """Record the current episode and start the next one (the same level again with ``replay``)."""
        seed = self.episode.seed if self.episode is not None else None
        row = self._finish(ended)
        self.ended = self.done
        if not self.ended:
            self._begin(seed if replay and seed is not None else self.writer.next_seed(self.first_seed))
        return row

    def reset_level(self) -> dict | None:
        """Record the steps played so far and start this level again from its beginning."""
        return self.next_episode("reset", replay=True)

    def end(self, keep_unfinished: bool = True) -> None:
        """End the session; the unfinished episode's steps are recorded unless ``keep_unfinished`` is off."""
        if keep_unfinished:
            self._finish("session end")
        self.episode, self.proposal, self.ended = None, None, True

    def frame(self) -> np.ndarray:
        """The level as minigrid renders it, with the agent's view highlighted: (H, W, 3) uint8."""
        return self.env.get_frame(highlight=True, tile_size=self.tile_size or 32, agent_pov=False)


class OracleTeacher:
    """The oracle as teacher: it replans from the actual state after every performed action."""

    def __init__(self, session: TeachingSession):
        self.session = session
        self._bot, self._serial, self._last = None, None, None

    def _sync(self) -> None:
        ep = self.session.episode
        if self._serial != ep.serial:  # a new episode: a new bot on the freshly reset level
            self._bot, self._serial, self._last = Bot(self.session.env), ep.serial, None

    def teach_step(self) -> dict | None:
        """Teach one step; returns the CSV row when an episode ended."""
        s = self.session
        self._sync()
        try:
            action, thought = self._bot.replan(self._last, s.episode.obs["image"])
        except BotError as e:  # the agent did something the oracle cannot follow (e.g. opened a box)
            logger.info("seed %d: the oracle cannot follow (%s): the episode ends", s.episode.seed, e)
            return s.next_episode("oracle error")
        thought = normalize_thought(thought)
        if s.thinks and s.proposal.thought != thought:
            s.rewrite_thought(thought)  # a Thought-DAgger: the oracle's thought replaces the agent's
        self._last = action
        return s.act(None if s.proposal.action == action else action)


def run_oracle(session: TeachingSession, progress: bool = True) -> list[dict]:
    """Teach with the oracle until the session's episode count is reached; returns the new CSV rows."""
    from babyai.bars import progress_bar

    teacher = OracleTeacher(session)
    rows = []
    bar = progress_bar(total=session.episodes, initial=session.writer.num_episodes, unit="ep", disable=not progress,
                       desc="teaching")
    try:
        while not session.ended:
            row = teacher.teach_step()
            if row is not None:
                rows.append(row)
                bar.update(1)
                bar.set_postfix(overrides=f"{row['action_overrides']}/{row['steps']}", snapshot=row["snapshot"])
    finally:
        bar.close()
    return rows
