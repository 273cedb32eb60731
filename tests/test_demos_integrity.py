"""A damaged dataset is an error, never different data: every byte of a shard is checksummed."""

import json
import os
import shutil
import struct

import numpy as np
import pytest

from babyai.demos import DemoFormatError, DemoSpec, generate_dataset, open_demos
from babyai.demos.format import MAGIC, MAGIC_V1, TAIL, TAIL_V1, shard_name


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("demos") / "small")
    generate_dataset(folder, DemoSpec(level="BabyAI-GoToRedBallNoDists-v0", episodes=3,
                                      first_seed=1, shard_size=3), progress=False)
    return folder


def snapshot(folder):
    """Everything a reader can see of a dataset."""
    demos = open_demos(folder)
    try:
        episodes = [(ep.level, ep.seed, ep.mission, ep.images.tobytes(), ep.directions.tolist(),
                     ep.actions.tolist(), ep.thoughts, ep.noise.tolist(), ep.success, ep.seeding,
                     ep.reset_index, ep.generator) for ep in demos]
        return (len(demos), demos.num_frames, demos.lengths.tolist(), demos.seeds.tolist(),
                demos.vocabulary, [s.extra for s in demos.shards], episodes)
    finally:
        demos.close()


def flip_every_byte(folder, path):
    """Flip each byte of ``path`` in turn: every flip must give a one-line error or the same data."""
    original, expected = open(path, "rb").read(), snapshot(folder)
    errors = 0
    try:
        for i in range(len(original)):
            damaged = bytearray(original)
            damaged[i] ^= 0xFF
            with open(path, "wb") as f:
                f.write(damaged)
            try:
                seen = snapshot(folder)
            except DemoFormatError as error:
                assert "\n" not in str(error) and str(error), i
                errors += 1
                continue
            assert seen == expected, f"byte {i} flipped gave different data"
    finally:
        with open(path, "wb") as f:
            f.write(original)
    return errors, len(original)


def test_every_flipped_byte_of_a_shard_is_an_error_or_changes_nothing(small):
    errors, size = flip_every_byte(small, os.path.join(small, shard_name(0)))
    assert errors == size  # the format has no byte that nothing reads


def to_format_1(path):
    """Rewrite a shard in format 1 (no footer checksum), as earlier versions wrote it."""
    data = open(path, "rb").read()
    count, json_len, _, _ = TAIL.unpack(data[-TAIL.size:])
    data = MAGIC_V1 + data[len(MAGIC):-TAIL.size] + TAIL_V1.pack(count, json_len, MAGIC_V1)
    with open(path, "wb") as f:
        f.write(data)


def test_format_1_shards_are_still_read_and_their_index_checked(small, tmp_path):
    old = str(tmp_path / "old")
    shutil.copytree(small, old)
    to_format_1(os.path.join(old, shard_name(0)))
    assert snapshot(old)[:5] == snapshot(small)[:5] and snapshot(old)[6] == snapshot(small)[6]
    # the index is checked against the records (format 1's footer JSON has no checksum)
    path = os.path.join(old, shard_name(0))
    data = bytearray(open(path, "rb").read())
    count = struct.unpack("<Q", data[-TAIL_V1.size:][:8])[0]
    lengths_at = len(data) - TAIL_V1.size - struct.unpack("<Q", data[-16:-8])[0] - 8 * count
    data[lengths_at] ^= 1  # the first length's lowest byte
    with open(path, "wb") as f:
        f.write(data)
    with pytest.raises(DemoFormatError, match="record index"):
        open_demos(old)


def test_resuming_makes_format_1_shards_again(small, tmp_path):
    old = str(tmp_path / "old")
    shutil.copytree(small, old)
    meta = json.load(open(os.path.join(old, "meta.json")))
    json.dump({**meta, "complete": False}, open(os.path.join(old, "meta.json"), "w"))
    to_format_1(os.path.join(old, shard_name(0)))
    generate_dataset(old, DemoSpec(level="BabyAI-GoToRedBallNoDists-v0", episodes=3,
                                   first_seed=1, shard_size=3), progress=False)
    assert open(os.path.join(old, shard_name(0)), "rb").read(8) == MAGIC
    assert snapshot(old) == snapshot(small)


@pytest.mark.parametrize("field, value", [("num_shards", "four"), ("num_shards", -1),
                                          ("num_episodes", 2.5), ("complete", "yes"),
                                          ("vocabulary", [1, 2])])
def test_meta_fields_of_the_wrong_type_are_an_error(small, tmp_path, field, value):
    bad = str(tmp_path / "bad")
    shutil.copytree(small, bad)
    meta = json.load(open(os.path.join(bad, "meta.json")))
    json.dump({**meta, field: value}, open(os.path.join(bad, "meta.json"), "w"))
    with pytest.raises(DemoFormatError, match=field):
        open_demos(bad)


def test_a_flipped_length_no_longer_changes_the_frame_count(small, tmp_path):
    # the case: one bit of the length array made training see 1,048,770 frames
    bad = str(tmp_path / "bad")
    shutil.copytree(small, bad)
    path = os.path.join(bad, shard_name(0))
    data = bytearray(open(path, "rb").read())
    count, json_len, _, _ = TAIL.unpack(data[-TAIL.size:])
    lengths_at = len(data) - TAIL.size - json_len - 8 * count
    data[lengths_at + 2] ^= 0x10
    with open(path, "wb") as f:
        f.write(data)
    with pytest.raises(DemoFormatError, match="checksum"):
        open_demos(bad)
    assert np.all(open_demos(small).lengths < 1000)
