"""IIDM as AIME's baselines define it: a one-step forward model p(o_t+1 | o_t, a_t) trained on embodiment
data, then a policy pi(a_t | o_t, mission) trained on the demonstrations by maximising the likelihood of
o_t+1 under the frozen forward model fed with the policy's action (straight-through Gumbel-softmax for
BabyAI's discrete actions; AIME's continuous actions went in directly). AIME's IIDM stacks the last
frames; here the policy sees one frame (the forward model's input). The policy's encoder starts from the
forward model's, as in AIME.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from babyai.agent.policy import StepOutput
from babyai.observe.aime import evaluating, mission_tokens
from babyai.observe.idm import Transitions, load_transitions, minibatch_epochs
from babyai.observe.nets import ForwardModel, ObservationPolicy, image_log_likelihood


def missions_per_transition(reader, episodes: int = 0) -> list[str]:
    """The mission of each transition of ``load_transitions(reader, episodes)``, in the same order."""
    stop = len(reader) if episodes == 0 else min(len(reader), episodes)
    out = []
    for i in range(stop):
        ep = reader[i]
        out += [ep.mission] * (len(ep.images) - 1)
    return out


def _next_images(data: Transitions, rows: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(data.images[data.src[rows] + 1])


def train_forward_model(model: ForwardModel, data: Transitions, epochs: int, batch_size: int, lr: float, seed: int,
                        progress: bool = True) -> dict:
    """Adam on -log p(o_t+1 | o_t, a_t) of the embodiment transitions (their true actions)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def loss_of(rows):
        images = torch.from_numpy(data.images[data.src[rows]])
        action = F.one_hot(torch.from_numpy(data.actions[data.src[rows]]), model.cfg.num_actions).float()
        return -image_log_likelihood(model(images, action), _next_images(data, rows)).mean()

    return _history(minibatch_epochs(model, optimizer, len(data), epochs, batch_size, seed, loss_of, "forward model", progress))


def train_iidm_policy(policy: ObservationPolicy, model: ForwardModel, data: Transitions, missions: list[str], vocab,
                      epochs: int, batch_size: int, lr: float, seed: int, tau: float = 1.0,
                      progress: bool = True) -> dict:
    """Adam on the policy of -log p(o_t+1 | o_t, a_t ~ pi(o_t)) over the demonstrations' transitions."""
    model.eval()
    model.requires_grad_(False)
    tokens = mission_tokens(vocab, missions)  # (N, L)
    optimizer = torch.optim.Adam(policy.parameters(), lr=lr)

    def loss_of(rows):
        images = torch.from_numpy(data.images[data.src[rows]])
        action = F.gumbel_softmax(policy(images, tokens[rows]), tau=tau, hard=True)  # (n, A)
        return -image_log_likelihood(model(images, action), _next_images(data, rows)).mean()

    return _history(minibatch_epochs(policy, optimizer, len(data), epochs, batch_size, seed, loss_of, "iidm policy", progress))


def _history(epochs) -> dict:
    history = [{"epoch": epoch, "neg_log_likelihood": loss} for epoch, loss in epochs]
    return {"history": history, **history[-1]}


def demo_transitions(reader, episodes: int = 0) -> tuple[Transitions, list[str]]:
    """The demonstrations' transitions (their actions not read) and the mission of each."""
    return load_transitions(reader, episodes, with_actions=False), missions_per_transition(reader, episodes)


class ObservationAgent:
    """The IIDM policy acting in levels through the batched rollout: memoryless, logits of each frame."""

    thinks = False

    def __init__(self, policy: ObservationPolicy, vocab, name: str = "iidm"):
        self.policy, self.vocab, self.name = policy, vocab, name

    def evaluating(self):
        return evaluating(self, self.policy)

    def check_thought(self, sentence: str) -> None:
        raise ValueError(f"{self.name} has no thoughts to replace")

    def begin(self, missions: list[str]) -> None:
        self.vocab.check(missions, "the missions")
        self._mission = mission_tokens(self.vocab, missions)

    @torch.no_grad()
    def step(self, rows: np.ndarray, images: np.ndarray, inject=None) -> StepOutput:
        index = torch.as_tensor(np.asarray(rows), dtype=torch.long)
        return StepOutput(self.policy(torch.from_numpy(images), self._mission[index]), [None] * len(rows))
