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
