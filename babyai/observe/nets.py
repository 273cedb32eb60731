"""The networks of imitation from observation: the inverse dynamics model (BCO), the one-step forward
model (IIDM) and the recurrent state-space world model (AIME), with their config dataclasses.

Observations are BabyAI's egocentric 7x7x3 views (object, colour, state per cell; the carried object
is drawn in the agent's own cell, (3, 6)) and the agent's direction. Images are read as in
``babyai.model.layers.ImageEncoder``: each channel's value indexes an embedding table and the three
are summed per cell; the convolutions here are narrow (32 channels, no BatchNorm) so that these
models train on a CPU in minutes, where ImageEncoder's two 128-channel convolutions would not.
Shapes: n rows, C channels, A actions (7), E embedding width.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_ACTIONS = 7
NUM_DIRECTIONS = 4
IMAGE_VALUES = 147  # rows of each channel's table (BabyAI's 'image' observation space)


class _Config:
    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict):
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown {cls.__name__} keys: {', '.join(sorted(unknown))}")
        return cls(**d)


@dataclass(frozen=True)
class IDMConfig(_Config):
    embed_dim: int = 16  # width of the per-channel image embedding
    channels: int = 32  # width of the convolutions
    hidden: int = 128  # hidden layer of the action head
    image_values: int = IMAGE_VALUES
    num_actions: int = NUM_ACTIONS


class CellEncoder(nn.Module):
    """Bag-of-words cell embedding (three tables summed per cell) and two 3x3 convolutions."""

    def __init__(self, image_values: int, embed_dim: int, channels: int):
        super().__init__()
        self.image_values = image_values
        self.embedding = nn.Embedding(3 * image_values, embed_dim)
        self.register_buffer("offsets", torch.arange(3) * image_values, persistent=False)
        self.conv = nn.Sequential(
            nn.Conv2d(embed_dim, channels, 3, padding=1), nn.ReLU(),
            nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        # images: (n, 7, 7, 3) uint8
        x = self.embedding(images.long().clamp_max(self.image_values - 1) + self.offsets).sum(3)  # (n, 7, 7, E)
        return self.conv(x.permute(0, 3, 1, 2))  # (n, C, 7, 7)


class InverseDynamicsModel(nn.Module):
    """p(a_t | o_t, d_t, o_t+1, d_t+1): which action led from one observation to the next."""

    def __init__(self, cfg: IDMConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = CellEncoder(cfg.image_values, cfg.embed_dim, cfg.channels)
        self.fuse = nn.Sequential(nn.Conv2d(2 * cfg.channels, cfg.channels, 3, padding=1), nn.ReLU())
        self.head = nn.Sequential(
            nn.Linear(cfg.channels * 49 + 2 * NUM_DIRECTIONS, cfg.hidden), nn.ReLU(),
            nn.Linear(cfg.hidden, cfg.num_actions),
        )

    def forward(self, images, directions, next_images, next_directions) -> torch.Tensor:
        # images, next_images: (n, 7, 7, 3) uint8; directions, next_directions: (n,) int64
        n = images.shape[0]
        both = self.encoder(torch.cat([images, next_images]))  # (2n, C, 7, 7)
        x = self.fuse(torch.cat([both[:n], both[n:]], 1)).flatten(1)  # (n, 49 C)
        turn = torch.cat([F.one_hot(directions, NUM_DIRECTIONS), F.one_hot(next_directions, NUM_DIRECTIONS)], 1)
        return self.head(torch.cat([x, turn.float()], 1))  # (n, A) action logits


# ------------------------------------------------------------------------------ world models
CELL_CLASSES = (11, 6, 3)  # values of the object, colour and state channels of a cell


def image_targets(images: torch.Tensor) -> torch.Tensor:
    """(n, 49, 3) int64 class of each cell's three channels (clamped to their ranges)."""
    x = images.long().reshape(images.shape[0], 49, 3)
    return torch.stack([x[..., c].clamp(0, k - 1) for c, k in enumerate(CELL_CLASSES)], -1)


def image_log_likelihood(logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """(n,) log p(image) under per-cell, per-channel categoricals; logits (n, 49, sum(CELL_CLASSES))."""
    targets = image_targets(images)  # (n, 49, 3)
    total, start = 0.0, 0
    for c, k in enumerate(CELL_CLASSES):
        log_p = F.log_softmax(logits[..., start : start + k], -1)  # (n, 49, k)
        total = total + log_p.gather(-1, targets[..., c : c + 1]).squeeze(-1).sum(1)  # (n,)
        start += k
    return total


@dataclass(frozen=True)
class WorldModelConfig(_Config):
    embed_dim: int = 16
    channels: int = 32
    embedding: int = 128  # observation embedding e_t
    deter: int = 128  # deterministic state h_t (GRU)
    stoch: int = 32  # stochastic state z_t (diagonal Gaussian)
    hidden: int = 256
    min_std: float = 0.1
    image_values: int = IMAGE_VALUES
    num_actions: int = NUM_ACTIONS


class ObservationEncoder(nn.Module):
    """o_t -> e_t: the cell encoder, flattened, one linear layer."""

    def __init__(self, image_values: int, embed_dim: int, channels: int, out: int):
        super().__init__()
        self.cells = CellEncoder(image_values, embed_dim, channels)
        self.out = nn.Sequential(nn.Linear(49 * channels, out), nn.ELU())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        # images: (n, 7, 7, 3) uint8
        return self.out(self.cells(images).flatten(1))  # (n, out)


class ImageDecoder(nn.Module):
    """features -> per-cell categorical logits of the three channels."""

    def __init__(self, features: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(features, hidden), nn.ELU(), nn.Linear(hidden, 49 * sum(CELL_CLASSES)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (n, features)
        return self.net(x).reshape(x.shape[0], 49, sum(CELL_CLASSES))  # (n, 49, 20)


class RSSM(nn.Module):
    """A recurrent state-space model (PlaNet/Dreamer): h_t = GRU(h_t-1, [z_t-1, a_t-1]),
    prior p(z_t | h_t), posterior q(z_t | h_t, e_t), decoder p(o_t | h_t, z_t). The state before the first
    observation is zero and no action leads into it. BabyAI's dynamics do not depend on the mission, so the
    mission is an input of the policies, not of the model."""

    def __init__(self, cfg: WorldModelConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = ObservationEncoder(cfg.image_values, cfg.embed_dim, cfg.channels, cfg.embedding)
        self.cell = nn.GRUCell(cfg.stoch + cfg.num_actions, cfg.deter)
        self.prior_net = nn.Sequential(nn.Linear(cfg.deter, cfg.hidden), nn.ELU(), nn.Linear(cfg.hidden, 2 * cfg.stoch))
        self.posterior_net = nn.Sequential(nn.Linear(cfg.deter + cfg.embedding, cfg.hidden), nn.ELU(),
                                           nn.Linear(cfg.hidden, 2 * cfg.stoch))
        self.decoder = ImageDecoder(cfg.deter + cfg.stoch, cfg.hidden)

    @property
    def feature_dim(self) -> int:
        return self.cfg.deter + self.cfg.stoch

    def _gaussian(self, x: torch.Tensor) -> torch.distributions.Normal:
        mean, std = x.chunk(2, -1)  # (n, S) each
        return torch.distributions.Normal(mean, F.softplus(std) + self.cfg.min_std)

    def initial(self, n: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
        return (torch.zeros(n, self.cfg.deter, device=device), torch.zeros(n, self.cfg.stoch, device=device))

    def step(self, h, z, action, embedding, first: bool, sample: bool = True, balance: float | None = None):
        """One filtering step: (h, z, KL(q || p)) after ``action`` (n, A, one-hot or relaxed) and e_t.

        ``balance`` (DreamerV2's KL balancing): the KL's value is unchanged, but a share ``balance`` of its
        gradient trains the prior towards the posterior and 1 - ``balance`` the posterior towards the prior,
        so the prior learns to predict more than the posterior learns to forget; None: the plain KL."""
        # h: (n, D), z: (n, S), action: (n, A) or None when first, embedding: (n, E)
        if not first:
            h = self.cell(torch.cat([z, action], 1), h)  # (n, D)
        prior = self._gaussian(self.prior_net(h))
        posterior = self._gaussian(self.posterior_net(torch.cat([h, embedding], 1)))
        z = posterior.rsample() if sample else posterior.mean  # (n, S)
        kl = torch.distributions.kl_divergence
        if balance is None:
            return h, z, kl(posterior, prior).sum(1)  # (n,)
        fixed = lambda d: torch.distributions.Normal(d.loc.detach(), d.scale.detach())  # noqa: E731
        balanced = balance * kl(fixed(posterior), prior) + (1 - balance) * kl(posterior, fixed(prior))  # (n, S)
        return h, z, balanced.sum(1)  # (n,)

    def log_likelihood(self, h, z, images) -> torch.Tensor:
        # h: (n, D), z: (n, S), images: (n, 7, 7, 3) -> (n,)
        return image_log_likelihood(self.decoder(torch.cat([h, z], 1)), images)


class MissionEncoder(nn.Module):
    """The mission as the mean of its word embeddings (token ids, 0 = padding)."""

    def __init__(self, vocab_size: int, dim: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=0)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        # tokens: (n, L) int64
        mask = (tokens != 0).float().unsqueeze(-1)  # (n, L, 1)
        return (self.embedding(tokens) * mask).sum(1) / mask.sum(1).clamp_min(1)  # (n, dim)


@dataclass(frozen=True)
class PolicyConfig(_Config):
    hidden: int = 128
    mission_dim: int = 32
    vocab_size: int = 100
    num_actions: int = NUM_ACTIONS


class LatentPolicy(nn.Module):
    """AIME's policy: pi(a_t | s_t, mission) on the world model's state features s_t = [h_t, z_t]."""

    def __init__(self, cfg: PolicyConfig, features: int):
        super().__init__()
        self.cfg = cfg
        self.mission = MissionEncoder(cfg.vocab_size, cfg.mission_dim)
        self.net = nn.Sequential(nn.Linear(features + cfg.mission_dim, cfg.hidden), nn.ELU(),
                                 nn.Linear(cfg.hidden, cfg.hidden), nn.ELU(), nn.Linear(cfg.hidden, cfg.num_actions))

    def forward(self, features: torch.Tensor, mission: torch.Tensor) -> torch.Tensor:
        # features: (n, F), mission: (n, L) -> (n, A) action logits
        return self.net(torch.cat([features, self.mission(mission)], 1))


FORWARD_EMBEDDING = 512  # observation embedding of the forward model and of the IIDM policy


class ForwardModel(nn.Module):
    """IIDM's one-step model: p(o_t+1 | o_t, a_t), trained on embodiment data. Most cells do not change from
    one step to the next, so the logits start from a learnt multiple of the current cell's one-hot classes."""

    def __init__(self, cfg: WorldModelConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = ObservationEncoder(cfg.image_values, cfg.embed_dim, cfg.channels, FORWARD_EMBEDDING)
        self.decoder = ImageDecoder(FORWARD_EMBEDDING + cfg.num_actions, cfg.hidden)
        self.copy = nn.Parameter(torch.tensor(2.0))

    def forward(self, images: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        # images: (n, 7, 7, 3), action: (n, A) -> (n, 49, 20) logits of the next image
        targets = image_targets(images)  # (n, 49, 3)
        current = torch.cat([F.one_hot(targets[..., c], k) for c, k in enumerate(CELL_CLASSES)], -1)  # (n, 49, 20)
        return self.decoder(torch.cat([self.encoder(images), action], 1)) + self.copy * current


class ObservationPolicy(nn.Module):
    """IIDM's policy: pi(a_t | o_t, mission) (one frame: AIME's IIDM with a stack of 1)."""

    def __init__(self, cfg: PolicyConfig, wm: WorldModelConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = ObservationEncoder(wm.image_values, wm.embed_dim, wm.channels, FORWARD_EMBEDDING)
        self.mission = MissionEncoder(cfg.vocab_size, cfg.mission_dim)
        self.net = nn.Sequential(nn.Linear(FORWARD_EMBEDDING + cfg.mission_dim, cfg.hidden), nn.ELU(),
                                 nn.Linear(cfg.hidden, cfg.num_actions))

    def forward(self, images: torch.Tensor, mission: torch.Tensor) -> torch.Tensor:
        # images: (n, 7, 7, 3), mission: (n, L) -> (n, A)
        return self.net(torch.cat([self.encoder(images), self.mission(mission)], 1))
