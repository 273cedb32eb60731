"""Thought-annotated demonstrations on disk: safe to open, compact, random access, crash-proof.

A dataset is a folder::

    meta.json            what was generated and how (written first; ``complete`` set last)
    shard-00000.tcd      episodes 0 .. S-1
    shard-00001.tcd      episodes S .. 2S-1, ...

A shard is written to a temporary name and renamed when whole, so a shard on disk is always
complete. Its layout: the magic ``TCDEMO02``, the episode records, then a footer (record
offsets, seeds, lengths and CRC32s as little-endian arrays, a JSON object, their sizes, the
CRC32 of all that, and the magic again). A record is a small JSON header (mission, seed, thoughts
as runs, ...) followed by one blosc/zstd blob holding images (T, 7, 7, 3), directions, actions and
noise flags (uint8). Every byte is covered by a checksum: a corrupt shard is an error, never
different data. Nothing is ever unpickled: JSON and raw arrays only.

Shards of format 1 (magic ``TCDEMO01``, before the footer had its checksum) are still read: their
index is checked against every record (read whole once, at opening); their footer's JSON is not
trusted, so generation regenerates them when it resumes.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass, field

import blosc
import numpy as np

import babyai
from babyai.atomic import atomic_folder, atomic_path

MAGIC = b"TCDEMO02"
MAGIC_V1 = b"TCDEMO01"  # format 1: no footer checksum
FORMAT = "thought-cloning-demos"
FORMAT_VERSION = 2
META = "meta.json"
SIZES = struct.Struct("<QQ")  # number of records, JSON footer size
TAIL = struct.Struct("<QQI8s")  # the sizes, CRC32 of the footer (arrays, JSON, sizes), magic
TAIL_V1 = struct.Struct("<QQ8s")
IMAGE_SHAPE = (7, 7, 3)
FRAME_BYTES = int(np.prod(IMAGE_SHAPE))
BLOSC_ERROR = blosc.blosc_extension.error  # raised on a corrupt compressed buffer


class DemoFormatError(ValueError):
    """A dataset that is missing, incomplete, corrupt or of another format."""


@dataclass
class Episode:
    """One demonstration: per step the observation, the oracle's action and thought."""

    level: str
    seed: int
    mission: str
    images: np.ndarray  # (T, 7, 7, 3) uint8
    directions: np.ndarray  # (T,) int64
    actions: np.ndarray  # (T,) int64
    thoughts: list  # T sentences
    noise: np.ndarray  # (T,) bool: the step's action and thought were noise
    success: bool = True
    seeding: str = "legacy"
    reset_index: int = 0  # resets of the level's stream after seeding (retries after failures)
    generator: str = field(default_factory=lambda: f"babyai {babyai.__version__}")
    # a teaching session's record of the step (babyai.teach): what the agent proposed, what the teacher
    # changed, the snapshot that played; JSON-able, kept in the record's header; None for oracle demos
    teaching: dict | None = None

    def __len__(self) -> int:
        return len(self.actions)


def thought_runs(thoughts) -> list:
    """[[first_step, sentence], ...]: one entry per change of thought."""
    runs = []
    for t, sentence in enumerate(thoughts):
        if not runs or runs[-1][1] != sentence:
            runs.append([t, sentence])
    return runs


def expand_runs(runs, length: int) -> list:
    thoughts = []
    for k, (start, sentence) in enumerate(runs):
        end = runs[k + 1][0] if k + 1 < len(runs) else length
        thoughts.extend([sentence] * (end - start))
    return thoughts


def encode_episode(ep: Episode) -> bytes:
    length = len(ep.actions)
    header = {
        "level": ep.level, "seed": int(ep.seed), "seeding": ep.seeding,
        "reset_index": int(ep.reset_index), "mission": ep.mission, "success": bool(ep.success),
        "length": length, "thoughts": thought_runs(ep.thoughts), "generator": ep.generator,
    }
    if ep.teaching is not None:
        header["teaching"] = ep.teaching
    head = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf8")
    images = np.ascontiguousarray(ep.images, dtype=np.uint8)
    if images.shape != (length, *IMAGE_SHAPE) or len(ep.thoughts) != length:
        raise ValueError(f"episode arrays disagree on its length {length}")
    body = b"".join([
        images.tobytes(),
        np.asarray(ep.directions, dtype=np.uint8).tobytes(),
        np.asarray(ep.actions, dtype=np.uint8).tobytes(),
        np.asarray(ep.noise, dtype=np.uint8).tobytes(),
    ])
    blob = blosc.compress(body, typesize=1, clevel=3, cname="zstd")
    return struct.pack("<I", len(head)) + head + blob


def record_header(record: bytes) -> dict:
    """The JSON header of an encoded episode."""
    (head_len,) = struct.unpack_from("<I", record)
    header = json.loads(record[4:4 + head_len])
    if not isinstance(header, dict):
        raise DemoFormatError("episode record has no header")
    return header


def decode_episode(record: bytes) -> Episode:
    (head_len,) = struct.unpack_from("<I", record)
    header = record_header(record)
    body = np.frombuffer(blosc.decompress(record[4 + head_len:]), dtype=np.uint8)
    length = header["length"]
    if body.size != length * (FRAME_BYTES + 3):
        raise DemoFormatError("episode record has the wrong size")
    frames = length * FRAME_BYTES
    rest = body[frames:].reshape(3, length)
    return Episode(
        level=header["level"], seed=header["seed"], mission=header["mission"],
        images=body[:frames].reshape(length, *IMAGE_SHAPE),
        directions=rest[0].astype(np.int64), actions=rest[1].astype(np.int64),
        thoughts=expand_runs(header["thoughts"], length), noise=rest[2].astype(bool),
        success=header["success"], seeding=header["seeding"],
        reset_index=header["reset_index"], generator=header["generator"],
        teaching=header.get("teaching"),
    )


# ---------------------------------------------------------------------------------- shards
def shard_name(index: int) -> str:
    return f"shard-{index:05d}.tcd"


def write_shard(path: str, records: list, extra: dict | None = None) -> None:
    """Write ``records`` ((encoded episode, seed, length) triples) as one shard, atomically."""
    offsets = np.zeros(len(records) + 1, dtype="<i8")
    offsets[0] = len(MAGIC)
    offsets[1:] = len(MAGIC) + np.cumsum([len(r) for r, _, _ in records], dtype=np.int64)
    seeds = np.array([seed for _, seed, _ in records], dtype="<i8")
    lengths = np.array([length for _, _, length in records], dtype="<i4")
    crcs = np.array([zlib.crc32(r) for r, _, _ in records], dtype="<u4")
    footer_json = json.dumps(extra or {}, sort_keys=True, separators=(",", ":")).encode("utf8")
    footer = b"".join(a.tobytes() for a in (offsets, seeds, lengths, crcs)) + footer_json
    sizes = SIZES.pack(len(records), len(footer_json))
    # a name of its own (no other writer shares it), removed when the write fails (a full disk)
    with atomic_path(path, f"{path}.{os.getpid()}.tmp") as tmp, open(tmp, "wb") as f:
        f.write(MAGIC)
        for r, _, _ in records:
            f.write(r)
        f.write(footer)
        f.write(TAIL.pack(len(records), len(footer_json), zlib.crc32(footer + sizes), MAGIC))
        f.flush()
        os.fsync(f.fileno())


class Shard:
    """Random access to the records of one shard file.

    ``legacy=False`` refuses format-1 shards (whose footer JSON, ``extra``, is not checksummed).
    """

    def __init__(self, path: str, legacy: bool = True):
        self.path = path
        self._fd = None
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                magic = f.read(len(MAGIC))
                if size < len(MAGIC) + TAIL_V1.size or magic not in (MAGIC, MAGIC_V1):
                    raise DemoFormatError(f"{path} is not a demo shard (bad header)")
                self.version = 2 if magic == MAGIC else 1
                if self.version == 1 and not legacy:
                    raise DemoFormatError(f"{path} is a format-1 shard (unchecked footer)")
                raw, start = self._read_footer(f, size)
        except OSError as error:
            raise DemoFormatError(f"cannot read {path}: {error.strerror}") from None
        count = self.count
        self.offsets = np.frombuffer(raw, "<i8", count + 1)
        self.seeds = np.frombuffer(raw, "<i8", count, (count + 1) * 8)
        self.lengths = np.frombuffer(raw, "<i4", count, (2 * count + 1) * 8)
        self.crcs = np.frombuffer(raw, "<u4", count, (2 * count + 1) * 8 + count * 4)
        try:
            self.extra = json.loads(raw[self._arrays_size(count):])
        except ValueError:
            raise DemoFormatError(f"{path} is corrupt (footer)") from None
        steps = np.diff(self.offsets)
        if (self.offsets[0] != len(MAGIC) or self.offsets[-1] != start or np.any(steps <= 4)
                or np.any(self.lengths < 0) or np.any(self.seeds < -1)  # -1: seed unknown
                or not isinstance(self.extra, dict)):
            raise DemoFormatError(f"{path} is truncated or corrupt (record index)")
        if self.version == 1:
            self._verify_index()

    @staticmethod
    def _arrays_size(count: int) -> int:
        return (count + 1) * 8 + count * (8 + 4 + 4)

    def _read_footer(self, f, size: int) -> tuple:
        """The footer's bytes (arrays and JSON) and where it starts; checks its checksum."""
        tail = TAIL if self.version == 2 else TAIL_V1
        f.seek(size - tail.size)
        fields = tail.unpack(f.read(tail.size))
        count, json_len, magic = fields[0], fields[1], fields[-1]
        start = size - tail.size - json_len - self._arrays_size(count)
        if magic != (MAGIC if self.version == 2 else MAGIC_V1) or not len(MAGIC) <= start < size:
            raise DemoFormatError(f"{self.path} is truncated or corrupt (bad footer)")
        f.seek(start)
        raw = f.read(size - tail.size - start)
        if self.version == 2 and zlib.crc32(raw + SIZES.pack(count, json_len)) != fields[2]:
            raise DemoFormatError(f"{self.path} is corrupt (footer checksum)")
        self.count = count
        return raw, start

    def _verify_index(self) -> None:
        """Format 1: check every record's checksum, seed and length against the index."""
        try:
            for i in range(self.count):
                header = record_header(self.record(i))
                if (header.get("seed"), header.get("length")) != (self.seeds[i], self.lengths[i]):
                    raise DemoFormatError(f"{self.path} is corrupt (record index)")
        except DemoFormatError:
            raise
        except (ValueError, struct.error):
            raise DemoFormatError(f"{self.path} is corrupt (record headers)") from None
        finally:
            self.close()

    def record(self, i: int) -> bytes:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        data = os.pread(self._fd, end - start, start)
        if len(data) != end - start or zlib.crc32(data) != int(self.crcs[i]):
            raise DemoFormatError(f"{self.path}: episode record {i} is corrupt (checksum)")
        return data

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __getstate__(self):  # reopen the file in a new process
        state = dict(self.__dict__)
        state["_fd"] = None
        return state


# ---------------------------------------------------------------------------------- datasets
def read_meta(folder: str) -> dict:
    path = os.path.join(folder, META)
    if not os.path.exists(path):
        if os.path.isfile(folder) or os.path.isfile(folder + ".pkl"):
            raise DemoFormatError(f"{folder} looks like an original pickle dataset; import it "
                                  "with scripts/import_demos.py --trust-pickle")
        raise DemoFormatError(f"no dataset at {folder} (no {META})")
    try:
        with open(path, encoding="utf8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as error:
        raise DemoFormatError(f"{path} is unreadable or corrupt: {error}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise DemoFormatError(f"{folder} is not a {FORMAT} dataset")
    _check_meta_types(path, meta)
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise DemoFormatError(f"{folder} uses format version {meta['format_version']}; this "
                              f"library reads up to {FORMAT_VERSION}: upgrade it")
    return meta


# the meta.json fields readers rely on, and their types (when present)
META_TYPES = {"format_version": int, "num_shards": int, "num_episodes": int, "num_frames": int,
              "complete": bool, "vocabulary": list, "level": str, "episodes": int,
              "first_seed": int, "shard_size": int}


def _check_meta_types(path: str, meta: dict) -> None:
    """A DemoFormatError for a field of the wrong type (e.g. ``"num_shards": "four"``)."""
    for key, kind in META_TYPES.items():
        value = meta.get(key)
        if value is None:
            continue
        if kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        else:
            ok = isinstance(value, kind) and (key != "vocabulary" or
                                              all(isinstance(w, str) for w in value))
        if not ok:
            shown = repr(value) if len(repr(value)) <= 30 else type(value).__name__
            raise DemoFormatError(f"{path}: {key} is {shown}, expected a "
                                  f"{'count' if kind is int else kind.__name__}")


def write_meta(folder: str, meta: dict) -> None:
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, **meta}
    path = os.path.join(folder, META)
    with atomic_path(path, f"{path}.{os.getpid()}.tmp") as tmp, open(tmp, "w", encoding="utf8") as f:
        json.dump(meta, f, sort_keys=True, indent=1)
        f.write("\n")


def write_dataset(folder: str, episodes: list, meta: dict, shard_size: int = 1000) -> dict:
    """Write ``episodes`` (a list of Episode) as a complete dataset at ``folder``, which must not exist: complete
    or absent, whoever else writes to the same name. ``meta`` adds to the counts, the vocabulary (the words of the
    missions and thoughts) and ``complete``; returns the meta.json written."""
    records, words = [], set()
    for ep in episodes:
        records.append((encode_episode(ep), int(ep.seed), len(ep)))
        words.update(ep.mission.split())
        for sentence in set(ep.thoughts):
            words.update(sentence.split())
    chunks = [records[i:i + shard_size] for i in range(0, len(records), shard_size)]
    meta = {"episodes": len(records), "failed_attempts": 0, **meta, "num_shards": len(chunks),
            "num_episodes": len(records), "num_frames": sum(n for _, _, n in records), "vocabulary": sorted(words),
            "complete": True}
    with atomic_folder(folder) as tmp:
        for k, chunk in enumerate(chunks):
            write_shard(os.path.join(tmp, shard_name(k)), chunk, {})
        write_meta(tmp, meta)
    return meta


class DemoReader:
    """A dataset opened for reading: ``len(r)``, ``r[i] -> Episode``, ``r.lengths``."""

    def __init__(self, folder: str, allow_incomplete: bool = False):
        self.folder = folder
        self.meta = read_meta(folder)
        if not self.meta.get("complete") and not allow_incomplete:
            raise DemoFormatError(f"{folder} is incomplete (generation was interrupted; run the "
                                  "same command again to finish it)")
        self.shards = [Shard(os.path.join(folder, shard_name(k)))
                       for k in range(self.meta.get("num_shards", 0))]
        counts = [s.count for s in self.shards]
        self._starts = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])
        if self.meta.get("complete") and self._starts[-1] != self.meta.get("num_episodes"):
            raise DemoFormatError(f"{folder}: shards hold {self._starts[-1]} episodes, "
                                  f"meta.json says {self.meta.get('num_episodes')}")
        self.seeds = np.concatenate([np.zeros(0, np.int64)] + [s.seeds for s in self.shards])
        self._lengths = np.concatenate([np.zeros(0, np.int64)] +
                                       [s.lengths.astype(np.int64) for s in self.shards])

    def __len__(self) -> int:
        return int(self._starts[-1])

    @property
    def lengths(self) -> np.ndarray:
        """Frames per episode (from the shard index, without reading episodes)."""
        return self._lengths

    @property
    def num_frames(self) -> int:
        return int(self.lengths.sum())

    @property
    def vocabulary(self) -> list:
        """The sorted words of the missions and thoughts."""
        return list(self.meta.get("vocabulary", []))

    def __getitem__(self, i: int) -> Episode:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"episode {i} out of range for a dataset of {n}")
        i %= n
        k = int(np.searchsorted(self._starts, i, side="right")) - 1
        try:
            ep = decode_episode(self.shards[k].record(i - int(self._starts[k])))
        except DemoFormatError:
            raise
        except (ValueError, KeyError, TypeError, struct.error, BLOSC_ERROR) as error:
            raise DemoFormatError(f"{self.folder}: episode {i} is corrupt ({error})") from None
        if (ep.seed, len(ep)) != (self.seeds[i], self._lengths[i]):
            raise DemoFormatError(f"{self.folder}: episode {i} disagrees with the shard index")
        return ep

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def close(self):
        for s in self.shards:
            s.close()


def open_demos(folder: str, allow_incomplete: bool = False) -> DemoReader:
    """Open a dataset folder for reading (a clear DemoFormatError if it is not a whole one)."""
    return DemoReader(folder, allow_incomplete=allow_incomplete)
