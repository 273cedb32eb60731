"""The configuration of the Thought Cloning agent and of its Behavioral Cloning baseline."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

PAD_ID, SOS_ID, EOS_ID = 0, 1, 2  # the vocabulary's reserved tokens: padding, start and end of a thought

INSTR_ARCHS = ("attgru",)
IMAGE_ARCHS = ("bow_endpool_res",)


@dataclass(frozen=True)
class TCConfig:
    """Sizes of the model. ``TCConfig(memory_dim=2048, instr_dim=256)`` is the paper's configuration.

    The defaults of memory_dim and instr_dim are BabyAI's (128); the paper used 2048 and 256.
    """

    image_dim: int = 128  # channels of the image encoder and the FiLM blocks, fed pooled to the memory LSTMs
    memory_dim: int = 128  # hidden size of each of the three LSTM memories and of the thought decoder
    instr_dim: int = 128  # word embedding width = mission/thought encoding width (two GRUs of instr_dim // 2)
    vocab_size: int = 100  # rows of the word-embedding table and outputs of the thought decoder
    max_thought_len: int = 15  # most tokens the decoder generates when it thinks freely
    num_actions: int = 7  # left, right, forward, pickup, drop, toggle, done
    image_values: int = 147  # rows of each channel's image embedding (BabyAI's 'image' obs space)
    instr_arch: str = "attgru"  # mission encoder: bidirectional GRU read by memory-keyed attention
    arch: str = "bow_endpool_res"  # image encoder: bag-of-words cells, end pooling, residual FiLM
    attn_dropout: float = 0.1  # dropout on attention weights (all attentions, as the original)
    transformer_dropout: float = 0.2  # dropout inside the two transformer-encoder layers
    # False: the Action Generator reads the mission and the image only, and the thought is an auxiliary loss
    # (the "instruction prediction" ablation of Hejna, Abbeel & Pinto 2023; not the paper's agent)
    action_reads_thought: bool = True

    def __post_init__(self):
        if self.instr_arch not in INSTR_ARCHS:
            raise ValueError(
                f"--instr-arch {self.instr_arch} is not supported: the Thought Cloning agent and its BC baseline "
                f"read the mission with an attention bidirectional GRU; use --instr-arch attgru"
            )
        if self.arch not in IMAGE_ARCHS:
            raise ValueError(f"--arch {self.arch} is not supported; use --arch bow_endpool_res")
        if self.image_dim < 16 or self.image_dim % 8 != 0:
            raise ValueError(f"--image-dim must be a multiple of 8 from 16 up (the paper's is 128), got {self.image_dim}")
        if self.instr_dim % 4 != 0 or self.instr_dim <= 0:
            raise ValueError(f"--instr-dim must be a positive multiple of 4, got {self.instr_dim}")
        if self.memory_dim <= 0:
            raise ValueError(f"--memory-dim must be positive, got {self.memory_dim}")
        if not isinstance(self.action_reads_thought, bool):
            raise ValueError(f"action_reads_thought must be true or false, got {self.action_reads_thought!r}")
        if self.max_thought_len < 1:
            raise ValueError(f"max_thought_len must be at least 1, got {self.max_thought_len}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TCConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {', '.join(sorted(unknown))}")
        return cls(**d)
