"""AIME (Zhang et al., NeurIPS 2023) on BabyAI: a policy trained to maximise the evidence of the
demonstrations' observations under a frozen world model, and the agent that acts with it.

For each demonstration o_0..o_T-1 (its actions unused), the world model filters the observations
while the policy supplies the actions: a_t-1 ~ pi(. | s_t-1, mission) with s = [h, z] the model's state,
relaxed by a straight-through Gumbel-softmax (a one-hot forward, the softmax's gradient backward), and
the policy's parameters follow the gradient of the ELBO (``babyai.observe.world_model``). Acting, the
agent filters its own observations with the model and the actions it took.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
import torch.nn.functional as F

from babyai.bars import progress_bar
from babyai.agent.policy import StepOutput
from babyai.observe.constants import AIME_WINDOW
from babyai.observe.nets import RSSM, LatentPolicy
from babyai.observe.world_model import filter_elbo, negative_elbo, sequences, transition_evidence


def mission_tokens(vocab, missions: list[str]) -> torch.Tensor:
    """(n, L) int64 token ids, 0-padded."""
    ids = [vocab.encode(m) for m in missions]
    out = np.zeros((len(ids), max(1, max(len(i) for i in ids))), np.int64)
    for k, row in enumerate(ids):
        out[k, : len(row)] = row
    return torch.from_numpy(out)


def policy_actions(policy: LatentPolicy, mission: torch.Tensor, tau: float, record: list) -> callable:
    """The ``act`` of ``filter_elbo``: straight-through Gumbel-softmax samples of the policy's actions."""

    def act(t, h, z):
        logits = policy(torch.cat([h, z], 1), mission)  # (B, A)
        record.append(logits)
        return F.gumbel_softmax(logits, tau=tau, hard=True)  # (B, A) one-hot, relaxed gradient

    return act


def marginal_evidence(model: RSSM, policy: LatentPolicy, images: torch.Tensor, mission: torch.Tensor,
                      record: list) -> torch.Tensor:
    """(T - 1, B) each frame's evidence with the discrete action summed out exactly:
    log sum_a pi(a | s_t-1) exp(log p(o_t | a) - KL), every action's one-step evidence computed
    (``transition_evidence``); the filter goes on with an action sampled from the policy. Its gradient is
    exact for each frame's own term (the posterior over the action minus the policy, bounded whatever the
    scale of the evidence) and ignores the later frames' dependence on the action, which the model's
    posterior, seeing each frame, mostly absorbs."""
    marginal = []

    def visit(t, h, z, evidence):
        logits = policy(torch.cat([h, z], 1), mission)  # (B, A)
        record.append(logits)
        marginal.append(torch.logsumexp(torch.log_softmax(logits, 1) + evidence, 1))
        return torch.multinomial(torch.softmax(logits.detach(), 1), 1).squeeze(1)

    transition_evidence(model, images, visit)
    return torch.stack(marginal) if marginal else torch.zeros(0, images.shape[1])


def train_aime(policy: LatentPolicy, model: RSSM, demos: list, vocab, updates: int, batch_size: int, lr: float,
               seed: int, tau: float = 1.0, max_len: int = AIME_WINDOW, progress: bool = True,
               estimator: str = "straight-through") -> dict:
    """Adam on the policy's parameters of -ELBO(demonstrations' observations) under the frozen ``model``.

    ``estimator``: how the discrete actions pass the ELBO's gradient to the policy: "straight-through"
    (Gumbel-softmax samples, one-hot forward, the softmax's gradient backward, through every later frame), or
    "marginal" (``marginal_evidence``: each frame's evidence with the action summed out)."""
    rng = np.random.default_rng(seed)
    model.eval()
    model.requires_grad_(False)
    optimizer = torch.optim.Adam(policy.parameters(), lr=lr)
    history = []
    bar = progress_bar(range(updates), desc="aime", unit="update", disable=not progress, dynamic_ncols=True)
    for u in bar:
        policy.train()
        batch = [demos[int(i)] for i in rng.integers(0, len(demos), batch_size)]
        images, actions, mask = sequences(batch, max_len)  # the actions are not used
        mission = mission_tokens(vocab, [ep.mission for ep in batch])
        logits: list = []
        if estimator == "marginal":
            evidence = marginal_evidence(model, policy, images, mission, logits)
            loss = -(evidence * mask[1:]).sum() / mask[1:].sum().clamp_min(1)
            kl = None  # the marginal sums the KL into each action's evidence
        else:
            log_p, kl = filter_elbo(model, images, policy_actions(policy, mission, tau, logits))
            loss = negative_elbo(log_p, kl, mask)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 100.0)
        optimizer.step()
        if (u + 1) % max(1, updates // 10) == 0 or u + 1 == updates:
            history.append({"update": u + 1, "neg_elbo": loss.item(),
                            "kl": None if kl is None else float((kl.detach() * mask).sum() / mask.sum()),
                            "diagnostic_action_agreement": agreement(logits, actions, mask),
                            "action_shares": action_shares(logits, mask)})
            bar.set_postfix(neg_elbo=f"{loss.item():.2f}")
    return {"history": history, **history[-1]}


def action_shares(logits: list, mask: torch.Tensor) -> list[float]:
    """The share of each action among the policy's most likely actions on the demonstrations' frames."""
    if not logits:
        return []
    chosen = torch.stack(logits).argmax(-1)[mask[1:]]  # the actions that led to a frame the window holds
    counts = torch.bincount(chosen, minlength=logits[0].shape[1]).float()
    return [round(float(c), 4) for c in counts / counts.sum().clamp_min(1)]


@contextlib.contextmanager
def evaluating(agent, *modules):
    """The modules in eval mode for the block, then as they were."""
    modes = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield agent
    finally:
        for m, mode in zip(modules, modes):
            m.train(mode)


def agreement(logits: list, actions: torch.Tensor, mask: torch.Tensor) -> float:
    """Diagnostic only (training never uses it): the share of demonstrated actions a_0..a_T-2 that the
    policy's most likely action matches."""
    if not logits:
        return float("nan")
    chosen = torch.stack(logits).argmax(-1)  # (T - 1, B)
    valid = mask[1:]  # a_t led to a frame the window holds
    return float(((chosen == actions[:-1]) & valid).sum() / valid.sum().clamp_min(1))


class AimeAgent:
    """The AIME policy acting in levels through the batched rollout (``babyai.agent.rollout.evaluate``).

    The world model needs the action each episode took, so the agent chooses it (sampled from its own
    generator, or the argmax) and returns logits that put all the mass on it: the rollout, sampling or
    not, then takes that action.
    """

    thinks = False

    def __init__(self, policy: LatentPolicy, model: RSSM, vocab, name: str = "aime", seed: int = 0,
                 argmax: bool = False):
        self.policy, self.model, self.vocab, self.name = policy, model, vocab, name
        self.seed, self.argmax = seed, argmax
        self._state = None

    evaluating = lambda self: evaluating(self, self.policy, self.model)  # noqa: E731

    def check_thought(self, sentence: str) -> None:
        raise ValueError(f"{self.name} has no thoughts to replace")

    def begin(self, missions: list[str]) -> None:
        self.vocab.check(missions, "the missions")
        n = len(missions)
        self._mission = mission_tokens(self.vocab, missions)
        self._h, self._z = self.model.initial(n)
        self._action = torch.zeros(n, self.model.cfg.num_actions)
        self._started = np.zeros(n, bool)
        self._generator = torch.Generator().manual_seed(self.seed)

    @torch.no_grad()
    def step(self, rows: np.ndarray, images: np.ndarray, inject=None) -> StepOutput:
        index = torch.as_tensor(np.asarray(rows), dtype=torch.long)
        first = not self._started[rows].any()
        if self._started[rows].any() and not self._started[rows].all():
            raise RuntimeError("episodes of one batch start together")
        embedding = self.model.encoder(torch.from_numpy(images))
        h, z, _ = self.model.step(self._h[index], self._z[index], self._action[index], embedding, first, sample=False)
        logits = self.policy(torch.cat([h, z], 1), self._mission[index])  # (n, A)
        if self.argmax:
            chosen = logits.argmax(1)
        else:
            chosen = torch.multinomial(torch.softmax(logits, 1), 1, generator=self._generator).squeeze(1)
        action = F.one_hot(chosen, self.model.cfg.num_actions).float()
        self._h[index], self._z[index], self._action[index] = h, z, action
        self._started[rows] = True
        return StepOutput(torch.where(action > 0, 0.0, -1e9), [None] * len(rows))
