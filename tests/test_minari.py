"""Minari datasets: our demonstrations exported and read back, Minari's own BabyAI kind imported."""

import os
import re
import signal
import subprocess
import sys
import time

import minari
import numpy as np
import pytest
from _train_helpers import LEVEL, make_demos, one_thread, tiny_config  # noqa: F401
from conftest import ROOT, run_script

from babyai.bot import Bot
from babyai.cli import call
from babyai.commands.train import USER_ERRORS
from babyai.commands.train import main as train_main
from babyai.demos import open_demos
from babyai.demos.format import encode_episode
from babyai.demos.minari_io import export_minari, import_minari, thoughts_of
from babyai.levels import make_env, reset_env
from babyai.train import trainer
from babyai.train.data import DatasetError

DATASET_ID = "thought-cloning/BabyAI-GoToLocal/oracle-v0"


@pytest.fixture
def minari_root(tmp_path, monkeypatch):
    root = tmp_path / "minari"
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    return root


def noisy_demos(storage, name="noisy", episodes=6):
    """Oracle demos with noise, in two shards (so the import has a shard layout to keep)."""
    from babyai.demos import DemoSpec, generate_dataset

    folder = os.path.join(str(storage), "demos", name)
    spec = DemoSpec(level=LEVEL, episodes=episodes, first_seed=40, noise_rate=0.3, shard_size=4)
    generate_dataset(folder, spec, progress=False)
    return folder


def files_of(folder) -> dict:
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder))}


def test_export_opens_in_minari_and_imports_back_the_same(tmp_path, minari_root):
    demos = open_demos(noisy_demos(tmp_path))
    assert any(ep.noise.any() for ep in demos)  # the noise flags are exercised
    proc = run_script("export_minari.py", "noisy", "--dataset-id", DATASET_ID, storage=tmp_path)
    assert DATASET_ID in proc.stdout and (minari_root / DATASET_ID).is_dir()

    dataset = minari.load_dataset(DATASET_ID)
    assert len(dataset) == len(demos) and dataset.total_steps == demos.num_frames
    assert dataset.env_spec.id == LEVEL
    meta = dataset.storage.metadata
    assert (meta["level"], meta["seeding"], meta["seeds"]) == (LEVEL, "legacy", [[40, 45]])
    assert meta["generator"] == demos.meta["generator"] and meta["noise_rate"] == 0.3
    for ep, ours in zip(dataset.iterate_episodes(), demos):
        steps = len(ours)
        assert len(ep) == steps and len(ep.observations["image"]) == steps + 1
        assert np.array_equal(ep.observations["image"][:steps], ours.images)
        assert np.array_equal(ep.observations["direction"][:steps], ours.directions)
        assert set(ep.observations["mission"]) == {ours.mission}
        assert np.array_equal(ep.actions, ours.actions)
        assert thoughts_of(ep) == ours.thoughts + [""]  # str (Minari's own reader gives bytes)
        assert np.array_equal(ep.infos["noise"][:steps], ours.noise)
        assert ep.terminations[-1] and not ep.terminations[:-1].any() and not ep.truncations.any()
        assert ep.rewards[-1] > 0 and not ep.rewards[:-1].any()
    # the final observation is the level's, after the last action
    env, last = make_env(LEVEL), demos[len(demos) - 1]
    obs = reset_env(env, last.seed)
    for action in last.actions:
        obs, *_ = env.step(int(action))
    assert np.array_equal(ep.observations["image"][-1], obs["image"])

    proc = run_script("import_minari.py", DATASET_ID, "--demos", "back", storage=tmp_path)
    assert "with thoughts" in proc.stdout
    back = open_demos(str(tmp_path / "demos" / "back"))
    assert back.meta["thoughts"] is True and back.vocabulary == demos.vocabulary
    assert [encode_episode(a) for a in back] == [encode_episode(b) for b in demos]  # byte for byte
    # the shards too (footers included), and meta.json but for saying where it came from
    before, after = files_of(tmp_path / "demos" / "noisy"), files_of(tmp_path / "demos" / "back")
    assert list(after) == list(before) == ["meta.json", "shard-00000.tcd", "shard-00001.tcd"]
    assert all(after[name] == before[name] for name in after if name != "meta.json")
    assert {k: v for k, v in back.meta.items() if k not in ("imported_from", "thoughts", "noise_flags_known")} \
        == demos.meta


def test_thoughts_are_stored_as_text_and_bad_generation_metadata_is_refused(tmp_path, minari_root):
    import h5py

    from babyai.demos.format import DemoFormatError
    from babyai.demos.minari_io import _generation

    export_minari(open_demos(make_demos(tmp_path, "small", 1, 0)), DATASET_ID, progress=False)
    with h5py.File(minari_root / DATASET_ID / "data" / "main_data.hdf5") as f:
        assert h5py.check_string_dtype(f["episode_0/infos/thought"].dtype).encoding == "utf-8"
    ok = {"noise_rate": 0.3, "shards": [[4, 1], [2, 0]]}
    assert _generation("d", ok, 6, None) == ({"noise_rate": 0.3}, [[4, 1], [2, 0]])
    assert _generation("d", ok, 6, 5) == ({"noise_rate": 0.3, "shard_size": 5}, [[5, 0], [1, 0]])
    for bad, needle in (({"noise_rate": 2.0}, "noise_rate is '2.0', expected a number in [0, 1]"),
                        ({"first_seed": "x"}, "first_seed is 'x', expected int"),
                        ({"original_rng": 1}, "original_rng is '1', expected bool"),
                        ({"shards": [[4, 1]]}, "shards are not [episodes, failures] pairs adding up to its 6 episodes"),
                        ({"shards": [[6, -1]]}, "shards are not [episodes, failures] pairs")):
        with pytest.raises(DemoFormatError, match=re.escape(f"d: its metadata {needle}")):
            _generation("d", bad, 6, None)


def test_exporting_to_an_existing_id_or_a_bad_id_is_refused(tmp_path, minari_root):
    from babyai.demos.format import DemoFormatError

    demos = open_demos(make_demos(tmp_path, "small", 2, 0))
    export_minari(demos, DATASET_ID, progress=False)
    before = sorted(os.listdir(minari_root / DATASET_ID / "data"))
    proc = run_script("export_minari.py", "small", "--dataset-id", DATASET_ID, storage=tmp_path, check=False)
    assert proc.returncode == 1 and proc.stderr.startswith("error: a Minari dataset") and proc.stderr.count("\n") == 1
    assert sorted(os.listdir(minari_root / DATASET_ID / "data")) == before
    with pytest.raises(DemoFormatError, match="bad Minari dataset id"):
        export_minari(demos, "no version", progress=False)
    with pytest.raises(DemoFormatError, match="no Minari dataset nobody/nothing-v0"):
        import_minari("nobody/nothing-v0", str(tmp_path / "demos" / "x"), progress=False)
    assert not (tmp_path / "demos" / "x").exists()


def test_an_episode_that_does_not_replay_leaves_no_dataset(tmp_path, minari_root, monkeypatch):
    from babyai.demos import minari_io

    folder = make_demos(tmp_path, "small", 3, 0)
    reader = open_demos(folder)
    real = reader.__class__.__getitem__

    def tampered(self, i):  # episode 2 claims another level seed
        ep = real(self, i)
        if i == 2:
            ep.seed += 1000
        return ep

    monkeypatch.setattr(reader.__class__, "__getitem__", tampered)
    monkeypatch.setattr(minari_io, "CHUNK", 2)  # so the dataset exists when the bad episode comes
    with pytest.raises(minari_io.DemoFormatError, match="seed 1002: its level does not replay"):
        export_minari(reader, DATASET_ID, progress=False)
    assert not (minari_root / DATASET_ID).exists()


def minigrid_style_dataset(dataset_id: str, episodes: int) -> None:
    """A Minari dataset as Minari's BabyAI ones are: gymnasium seeding, the bot, no thoughts in infos."""
    from gymnasium import spaces
    from minari.data_collector import EpisodeBuffer

    env, buffers = make_env(LEVEL, seeding="gymnasium"), []
    for seed in range(episodes):
        obs = reset_env(env, seed)
        bot, action, observations, actions, rewards, done = Bot(env), None, [obs], [], [], False
        while not done:
            action, _ = bot.replan(action, obs["image"])
            obs, reward, terminated, truncated, _ = env.step(action)
            observations.append(obs)
            actions.append(action)
            rewards.append(reward)
            done = terminated or truncated
        buffers.append(EpisodeBuffer(
            seed=seed, actions=np.array(actions), rewards=rewards,
            observations={key: [o[key] for o in observations] for key in ("direction", "image", "mission")},
            terminations=[False] * (len(actions) - 1) + [terminated], truncations=[False] * len(actions)))
    space = spaces.Dict({"direction": spaces.Discrete(4), "image": spaces.Box(0, 255, (7, 7, 3), np.uint8),
                         "mission": spaces.Text(256, charset="abcdefghijklmnopqrstuvwxyz ,")})
    with pytest.warns(UserWarning):
        minari.create_dataset_from_buffers(dataset_id, buffers, env=LEVEL, observation_space=space,
                                           action_space=spaces.Discrete(7), algorithm_name="BabyAI expert bot")


def test_a_dataset_without_thoughts_trains_bc_and_tc_refuses_it(tmp_path, minari_root, capsys):
    minigrid_style_dataset("minigrid/BabyAI-GoToLocal/optimal-v0", 12)
    meta = import_minari("minigrid/BabyAI-GoToLocal/optimal-v0", str(tmp_path / "demos" / "tiny"), progress=False)
    assert (meta["thoughts"], meta["seeding"], meta["level"], meta["num_episodes"]) == (False, "gymnasium", LEVEL, 12)
    demos = open_demos(str(tmp_path / "demos" / "tiny"))
    env = make_env(LEVEL, seeding="gymnasium")
    for ep in demos:
        assert ep.thoughts == [""] * len(ep) and not ep.noise.any() and ep.success
        assert ep.mission == reset_env(env, ep.seed)["mission"]

    with pytest.raises(DatasetError, match="the demos tiny have no thoughts .* scripts/train_il.py"):
        trainer.train(tiny_config(tmp_path, "tc"))
    trainer.train(tiny_config(tmp_path, "bc", algo="bc", epochs=1, val_episodes=2))
    assert os.path.exists(tmp_path / "models" / "bc" / "last.pt")

    args = ["--env", LEVEL, "--demos", "tiny", "--model", "tc2", "--storage-dir", str(tmp_path),
            "--memory-dim", "32", "--instr-dim", "32", "--epochs", "1"]
    capsys.readouterr()
    assert call(lambda a: train_main(a, algo="tc", prog="train_tc.py"), args, USER_ERRORS) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the demos tiny have no thoughts") and err.count("\n") == 1


def test_an_export_never_removes_the_dataset_another_export_finished_meanwhile(tmp_path, minari_root, monkeypatch):
    """Two real processes on one id: the one that finishes first keeps its dataset; the other fails cleanly."""
    from babyai.demos import minari_io

    make_demos(tmp_path, "other", 3, 100)
    reader = open_demos(make_demos(tmp_path, "small", 2, 0))
    real, raced = minari_io.replay, []

    def racing(*args):  # while this export replays its first episode, another process exports the same id
        if not raced:
            raced.append(run_script("export_minari.py", "other", "--dataset-id", DATASET_ID, storage=tmp_path))
        return real(*args)

    monkeypatch.setattr(minari_io, "replay", racing)
    with pytest.raises(FileExistsError, match="written by another process meanwhile"):
        export_minari(reader, DATASET_ID, progress=False)
    assert "3 episodes exported" in raced[0].stdout
    assert len(minari.load_dataset(DATASET_ID)) == 3  # the other export's data, whole
    assert os.listdir(minari_root / DATASET_ID) == ["data"]
    assert os.listdir(minari_root / DATASET_ID / "..") == ["oracle-v0"]  # nothing of this export is left


SLOW_EXPORT = """
import sys, time
from babyai.demos import minari_io
from babyai.commands.export_minari import main
real = minari_io.replay
minari_io.CHUNK = 2
minari_io.replay = lambda *a: (time.sleep(0.3), real(*a))[1]
main(sys.argv[1:])
"""


def test_a_killed_export_leaves_nothing_minari_opens_and_the_rerun_works(tmp_path, minari_root):
    make_demos(tmp_path, "small", 8, 0)
    env = dict(os.environ, BABYAI_STORAGE=str(tmp_path), PYTHONPATH=ROOT)
    proc = subprocess.Popen([sys.executable, "-c", SLOW_EXPORT, "small", "--dataset-id", DATASET_ID], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.time() + 120
        while time.time() < end and proc.poll() is None and not list(minari_root.glob("**/main_data.hdf5")):
            time.sleep(0.01)
        time.sleep(0.1)  # into the episodes after the first chunk
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert list(minari_root.glob("**/main_data.hdf5"))  # it was killed midway, with data written
    assert not (minari_root / DATASET_ID).exists()
    with pytest.raises(FileNotFoundError):
        minari.load_dataset(DATASET_ID)
    proc = run_script("export_minari.py", "small", "--dataset-id", DATASET_ID, storage=tmp_path)
    assert "8 episodes exported" in proc.stdout
    assert len(minari.load_dataset(DATASET_ID)) == 8
    assert os.listdir(minari_root / DATASET_ID / "..") == ["oracle-v0"]  # the killed export's leftovers are gone


def _tampered_dataset(dataset_id: str, actions=None, direction=None, seeding=None) -> None:
    """One bot episode on LEVEL as a Minari dataset (spaces wide enough to hold bad values), with its actions,
    its first direction or its seeding replaced."""
    from gymnasium import spaces
    from minari.data_collector import EpisodeBuffer

    env = make_env(LEVEL, seeding="gymnasium")
    obs = reset_env(env, 0)
    bot, action, observations, performed, done = Bot(env), None, [obs], [], False
    while not done:
        action, _ = bot.replan(action, obs["image"])
        obs, reward, terminated, truncated, _ = env.step(action)
        observations.append(obs)
        performed.append(action)
        done = terminated or truncated
    performed = actions if actions is not None else performed
    observations = {key: [o[key] for o in observations] for key in ("direction", "image", "mission")}
    if direction is not None:
        observations["direction"][0] = direction
    n = len(performed)
    buffer = EpisodeBuffer(seed=0, actions=np.array(performed), rewards=[0.0] * n, observations=observations,
                           terminations=[False] * (n - 1) + [True], truncations=[False] * n)
    space = spaces.Dict({"direction": spaces.Discrete(32), "image": spaces.Box(0, 255, (7, 7, 3), np.uint8),
                         "mission": spaces.Text(256, charset="abcdefghijklmnopqrstuvwxyz ,")})
    with pytest.warns(UserWarning):
        dataset = minari.create_dataset_from_buffers(dataset_id, [buffer], env=LEVEL, observation_space=space,
                                                     action_space=spaces.Discrete(200, start=-100))
    if seeding is not None:
        dataset.storage.update_metadata({"seeding": seeding})


def test_an_import_with_values_outside_the_levels_spaces_is_refused(tmp_path, minari_root):
    cases = [("t/BabyAI-GoToLocal/action99-v0", dict(actions=[2, 99, 1]), "actions must be in [0, 6]", "got 99"),
             ("t/BabyAI-GoToLocal/action-5-v0", dict(actions=[-5, 2]), "actions must be in [0, 6]", "got -5"),
             ("t/BabyAI-GoToLocal/direction17-v0", dict(direction=17), "directions must be in [0, 3]", "got 17"),
             ("t/BabyAI-GoToLocal/seeding-v0", dict(seeding="../../x"), "the seeding '../../x' is not one of")]
    for dataset_id, tamper, *needles in cases:
        _tampered_dataset(dataset_id, **tamper)
        proc = run_script("import_minari.py", dataset_id, "--demos", "bad", storage=tmp_path, check=False)
        assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("error: ") and all(n in last for n in needles), last
        assert not (tmp_path / "demos").exists() or os.listdir(tmp_path / "demos") == []  # nothing left behind
