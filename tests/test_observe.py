"""Imitation from observation: embodiment data, the inverse dynamics model, BCO's labelling, the errors."""

from __future__ import annotations

import dataclasses
import filecmp
import json
import os

import numpy as np
import pytest
import torch

from babyai.commands.train import main as train_main
from babyai.demos import open_demos
from babyai.demos.format import encode_episode, read_meta, shard_name, write_meta, write_shard
from babyai.observe.embodiment import EmbodimentSpec, generate_embodiment
from babyai.observe.idm import load_idm, save_idm, train_idm
from babyai.observe.nets import IDMConfig
from tests._train_helpers import LEVEL, make_demos, one_thread  # noqa: F401 (fixture)
from tests.conftest import one_line_error, run_script

IDM_THRESHOLD = 0.85  # small scale: 60 random episodes, 4 epochs (measured 0.97; 1,000 episodes: see results/)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A storage with random embodiment data, oracle demos (and their _valid) and an IDM trained on the first."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("observe") / "storage"
    demos = os.path.join(root, "demos")
    generate_embodiment(os.path.join(demos, "random60"), EmbodimentSpec(LEVEL, 60, first_seed=0), progress=False)
    make_demos(root, "oracle", 40, first_seed=5000)
    make_demos(root, "oracle_valid", 8, first_seed=6000)
    results = train_idm(LEVEL, os.path.join(demos, "random60"), os.path.join(root, "models", "idm"),
                        eval_demos=os.path.join(demos, "oracle"), epochs=4, progress=False)
    return root, results


def test_embodiment_data_same_bytes_with_workers_and_after_a_kill(tmp_path):
    spec = EmbodimentSpec(LEVEL, 6, first_seed=3, policy="noisy-oracle", noise_rate=0.5, shard_size=2)
    one, two = tmp_path / "one", tmp_path / "two"
    generate_embodiment(str(one), spec, progress=False)
    generate_embodiment(str(two), spec, workers=2, progress=False)
    os.remove(two / shard_name(2))  # a kill before the last shard: the same command finishes it
    meta = {k: v for k, v in read_meta(str(two)).items() if k not in ("format", "format_version")}
    write_meta(str(two), {**meta, "complete": False})
    generate_embodiment(str(two), spec, progress=False)
    for k in range(3):
        assert filecmp.cmp(one / shard_name(k), two / shard_name(k), shallow=False)
    data = open_demos(str(one))
    assert data.meta["kind"] == "embodiment" and data.meta["policy"] == "noisy-oracle"
    assert any(ep.noise.any() for ep in data) and all(ep.thoughts[0] for ep in data)


def test_random_embodiment_keeps_failed_episodes(world):
    root, _ = world
    data = open_demos(os.path.join(root, "demos", "random60"))
    assert len(data) == 60
    assert {ep.success for ep in data} == {True, False}
    assert all(t == "" for ep in data for t in ep.thoughts)
    assert set(np.concatenate([ep.actions for ep in data])) == set(range(7))


def test_idm_labels_the_oracle_demos(world):
    _, results = world
    assert results["accuracy"] >= IDM_THRESHOLD
    assert results["per_action"]["left"]["accuracy"] >= IDM_THRESHOLD
    held = results["held_out_embodiment"]
    assert held["ambiguous_share"] > 0.3  # random play mostly bumps into things and toggles nothing
    assert held["per_action"]["done"]["unchanged_share"] == 1.0
    assert held["per_action"]["left"]["unchanged_share"] == 0.0
    assert results["unobservable_last_steps"] == 40


def _corrupt_actions(src: str, dst: str) -> None:
    """A copy of a dataset whose actions on disk are random."""
    data, rng = open_demos(src), np.random.default_rng(0)
    os.makedirs(dst)
    episodes = list(data)
    for ep in episodes:
        ep.actions = rng.integers(0, 7, len(ep))
    write_shard(os.path.join(dst, shard_name(0)), [(encode_episode(ep), ep.seed, len(ep)) for ep in episodes])
    write_meta(dst, {k: v for k, v in data.meta.items() if k not in ("format", "format_version")} | {"num_shards": 1})


def test_from_observation_never_reads_the_demos_actions(world, tmp_path):
    root, _ = world
    other = tmp_path / "storage"
    for name in ("oracle", "oracle_valid"):
        _corrupt_actions(os.path.join(root, "demos", name), str(other / "demos" / name))
    assert not np.array_equal(open_demos(str(other / "demos" / "oracle"))[0].actions,
                              open_demos(os.path.join(root, "demos", "oracle"))[0].actions)
    idm = os.path.join(root, "models", "idm", "idm.pt")
    flags = ["--env", LEVEL, "--demos", "oracle", "--from-observation", idm, "--model", "bco", "--memory-dim", "32",
             "--instr-dim", "32", "--batch-size", "8", "--epochs", "1", "--epoch-length", "16", "--val-episodes", "2",
             "--val-seed", "100000", "--recurrence", "4"]
    for storage in (root, other):
        assert train_main([*flags, "--storage-dir", str(storage)], algo="tc", prog="train_tc.py") == 0
    a = torch.load(os.path.join(root, "models", "bco", "last.pt"), weights_only=True)["model"]
    b = torch.load(other / "models" / "bco" / "last.pt", weights_only=True)["model"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    labelled = open_demos(os.path.join(root, "demos", "observed-idm", "oracle"))
    true = open_demos(os.path.join(root, "demos", "oracle"))
    assert labelled.meta["labelled_by"]["idm"] == idm
    assert list(labelled.lengths) == [n - 1 for n in true.lengths if n > 1]


def test_from_observation_errors(world, tmp_path):
    root, _ = world
    make_demos(root, "other_level", 3, first_seed=0, level="BabyAI-GoToObj-v0")
    base = ["--demos", "other_level", "--from-observation", "idm", "--model", "x", "--epochs", "1"]
    proc = run_script("train_il.py", "--env", "BabyAI-GoToObj-v0", *base, "--storage-dir", root, check=False)
    assert proc.returncode != 0 and "trained on level BabyAI-GoToLocal-v0" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    model, ckpt = load_idm("idm", str(root))
    bad = tmp_path / "bad"
    save_idm(str(bad / "vocab"), model, LEVEL, {"size": 100, "words": ["a", "b"]}, {})
    proc = run_script("train_il.py", "--env", LEVEL, "--demos", "oracle", "--from-observation",
                      bad / "vocab" / "idm.pt", "--model", "y", "--storage-dir", root, check=False)
    assert proc.returncode != 0 and "another vocabulary" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = run_script("train_idm.py", "--env", "BabyAI-GoToObj-v0", "--embodiment", "random60", "--model", "z",
                      "--storage-dir", root, check=False)
    assert proc.returncode != 0 and proc.stderr.startswith("error: the embodiment data")
    assert "of level BabyAI-GoToLocal-v0, not BabyAI-GoToObj-v0" in proc.stderr
    proc = run_script("train_idm.py", "--env", LEVEL, "--embodiment", "oracle", "--model", "z",
                      "--storage-dir", root, check=False)
    assert proc.returncode != 0 and "holds demonstrations, not embodiment data" in proc.stderr


def test_idm_config_round_trip():
    cfg = IDMConfig(channels=8)
    assert IDMConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError):
        IDMConfig.from_dict({"channels": 8, "bogus": 1})


def test_idm_of_another_image_encoding_is_refused(world):
    from babyai.observe.bco import check_idm
    from babyai.observe.idm import IDMError
    from babyai.agent.vocab import Vocabulary

    _, ckpt = load_idm("idm", str(world[0]))
    vocab = Vocabulary.babyai().to_dict()
    check_idm(ckpt, "idm", LEVEL, vocab, 147)
    with pytest.raises(IDMError, match="reads images of 147 values per channel, the agent 100"):
        check_idm(ckpt, "idm", LEVEL, vocab, 100)


def test_world_model_save_load_round_trip(world, tmp_path):
    from babyai.observe.nets import RSSM, WorldModelConfig
    from babyai.observe.world_model import (held_out_elbo, load_world_model, save_world_model, split_episodes,
                                            train_world_model)

    root, _ = world
    train, held = split_episodes(open_demos(os.path.join(root, "demos", "random60")), 10)
    torch.manual_seed(0)
    model = RSSM(WorldModelConfig(deter=16, stoch=4, hidden=32, embedding=16, channels=8))
    info = train_world_model(model, train, held, updates=2, batch_size=2, length=5, lr=1e-3, seed=0, progress=False)
    save_world_model(str(tmp_path / "wm.pt"), model, LEVEL, info)
    loaded, ckpt = load_world_model(str(tmp_path / "wm.pt"))
    assert ckpt["level"] == LEVEL and loaded.cfg == model.cfg
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))
    assert held_out_elbo(loaded, held, 5) == held_out_elbo(model, held, 5)
    assert not any(p.requires_grad for p in loaded.parameters())  # frozen for AIME


def test_world_model_aime_and_iidm_scripts(world):
    root, _ = world
    run_script("train_world_model.py", "--env", LEVEL, "--embodiment", "random60", "--model", "wm", "--updates", "2",
               "--batch-size", "2", "--seq-len", "4", "--episodes", "10", "--deter", "16", "--stoch", "4", "--quiet",
               "--eval-demos", "oracle", "--storage-dir", root)
    with open(os.path.join(root, "models", "wm", "wm_eval.json")) as f:
        evidence = json.load(f)["demos_action_evidence"]
    oracle = open_demos(os.path.join(root, "demos", "oracle"))
    assert evidence["transitions"] == sum(len(oracle[i].images) - 1 for i in range(len(oracle)))
    proc = run_script("train_aime.py", "--env", LEVEL, "--demos", "oracle", "--world-model", "wm", "--model", "aime",
                      "--updates", "2", "--batch-size", "2", "--episodes", "4", "--eval-episodes", "2", "--quiet",
                      "--storage-dir", root)
    assert '"success_rate"' in proc.stdout
    assert os.path.isfile(os.path.join(root, "models", "aime", "aime.pt"))
    proc = run_script("train_aime.py", "--env", LEVEL, "--demos", "oracle", "--world-model", "wm", "--model", "aimem",
                      "--updates", "2", "--batch-size", "2", "--episodes", "4", "--eval-episodes", "2", "--quiet",
                      "--estimator", "marginal", "--storage-dir", root)
    assert '"success_rate"' in proc.stdout
    proc = run_script("train_iidm.py", "--env", LEVEL, "--embodiment", "random60", "--demos", "oracle", "--model",
                      "iidm", "--model-epochs", "1", "--policy-epochs", "1", "--episodes", "4",
                      "--embodiment-episodes", "4", "--eval-episodes", "2", "--quiet", "--storage-dir", root)
    assert '"success_rate"' in proc.stdout
    make_demos(root, "gotoobj", 3, first_seed=0, level="BabyAI-GoToObj-v0")
    proc = run_script("train_aime.py", "--env", "BabyAI-GoToObj-v0", "--demos", "gotoobj", "--world-model", "wm",
                      "--model", "aime2", "--storage-dir", root, check=False)
    assert proc.returncode != 0 and proc.stderr.startswith("error: the world model wm was trained on level")


def _wm_gradients(balance, free_nats=0.0):
    """Gradients of the world model's loss on one fixed random window: {name: grad} of every parameter."""
    from babyai.observe.nets import RSSM, WorldModelConfig
    from babyai.observe.world_model import filter_elbo, negative_elbo, true_actions

    torch.manual_seed(0)
    model = RSSM(WorldModelConfig(deter=8, stoch=4, hidden=16, embedding=8, channels=4))
    gen = torch.Generator().manual_seed(1)
    images = torch.randint(0, 6, (3, 2, 7, 7, 3), generator=gen).to(torch.uint8)  # (T, B, 7, 7, 3)
    actions = torch.randint(0, 7, (3, 2), generator=gen)
    log_p, kl = filter_elbo(model, images, true_actions(actions, 7), sample=False, balance=balance)
    negative_elbo(log_p, kl, torch.ones(3, 2, dtype=torch.bool), free_nats).backward()
    return kl.detach(), {k: p.grad.clone() for k, p in model.named_parameters()}


def test_kl_balancing_splits_the_kl_gradient_between_prior_and_posterior():
    plain_kl, plain = _wm_gradients(None)
    for alpha in (0.8, 0.3):
        kl, grads = _wm_gradients(alpha)
        assert torch.allclose(kl, plain_kl)  # the value is the KL's
        # the prior net sees only the KL: a share alpha of its gradient; the decoder only the reconstruction
        for k in grads:
            if k.startswith("prior_net"):
                assert torch.allclose(grads[k], alpha * plain[k], atol=1e-6), k
            if k.startswith("decoder"):
                assert torch.allclose(grads[k], plain[k], atol=1e-6), k
    _, no_prior = _wm_gradients(0.0)
    assert all(not g.any() for k, g in no_prior.items() if k.startswith("prior_net"))


def test_free_nats_silence_a_kl_below_them():
    kl, _ = _wm_gradients(None)
    _, free = _wm_gradients(None, free_nats=float(kl.max()) + 1.0)
    _, paid = _wm_gradients(None, free_nats=float(kl.min()) / 2)
    assert all(not g.any() for k, g in free.items() if k.startswith("prior_net"))
    assert any(g.any() for k, g in paid.items() if k.startswith("prior_net"))


def test_world_model_as_an_inverse_dynamics_model(world):
    """transition_evidence's true-action entry is the ELBO's own frame term; a model blind to actions names none."""
    from babyai.observe.nets import RSSM, WorldModelConfig
    from babyai.observe.world_model import action_evidence, filter_elbo, sequences, transition_evidence, true_actions

    root, _ = world
    demos = open_demos(os.path.join(root, "demos", "oracle"))
    episodes = [demos[i] for i in range(6)]
    torch.manual_seed(0)
    model = RSSM(WorldModelConfig(deter=16, stoch=4, hidden=32, embedding=16, channels=8)).eval()
    images, actions, mask = sequences(episodes, 64)
    log_p, kl = filter_elbo(model, images, true_actions(actions, 7), sample=False)
    seen = []

    def visit(t, h, z, evidence):
        assert torch.allclose(evidence.gather(1, actions[t - 1][:, None]).squeeze(1), (log_p - kl)[t], atol=1e-4)
        seen.append(t)
        return actions[t - 1]

    transition_evidence(model, images, visit)
    assert seen == list(range(1, images.shape[0]))
    result = action_evidence(model, episodes, 64, batch=4)
    true = np.concatenate([np.asarray(ep.actions)[: len(ep.images) - 1] for ep in episodes])
    assert result["transitions"] == len(true)
    assert {int(a): v["count"] for a, v in result["per_action"].items()} == dict(zip(*np.unique(true, return_counts=True)))
    with torch.no_grad():
        model.cell.weight_ih[:, model.cfg.stoch :] = 0  # the GRU no longer reads the action
    blind = action_evidence(model, episodes, 64)
    assert blind["accuracy"] == 0.0 and blind["mean_margin_nats"] == 0.0


def test_aime_marginal_evidence_sums_the_action_out(world):
    """log sum_a pi(a) exp(e_a) lies between the policy's expected evidence and the best action's; a world
    model blind to actions gives every action the same evidence, so the policy gets no gradient."""
    from babyai.agent.vocab import Vocabulary
    from babyai.observe.aime import marginal_evidence, mission_tokens
    from babyai.observe.nets import RSSM, LatentPolicy, PolicyConfig, WorldModelConfig
    from babyai.observe.world_model import sequences, transition_evidence

    root, _ = world
    demos = open_demos(os.path.join(root, "demos", "oracle"))
    episodes = [demos[i] for i in range(4)]
    vocab = Vocabulary.babyai()
    torch.manual_seed(0)
    model = RSSM(WorldModelConfig(deter=16, stoch=4, hidden=32, embedding=16, channels=8)).eval()
    policy = LatentPolicy(PolicyConfig(vocab_size=vocab.size), model.feature_dim)
    images, _, _ = sequences(episodes, 64)
    mission = mission_tokens(vocab, [ep.mission for ep in episodes])
    torch.manual_seed(1)
    logits: list = []
    marginal = marginal_evidence(model, policy, images, mission, logits)
    torch.manual_seed(1)  # the same sampled actions: the same states
    bounds = []
    transition_evidence(model, images, lambda t, h, z, e: bounds.append(e) or torch.multinomial(
        torch.softmax(logits[t - 1].detach(), 1), 1).squeeze(1))
    for t, e in enumerate(bounds):
        expected = (torch.softmax(logits[t], 1) * e).sum(1)
        assert (marginal[t] >= expected - 1e-4).all() and (marginal[t] <= e.max(1).values + 1e-4).all()
    with torch.no_grad():
        model.cell.weight_ih[:, model.cfg.stoch :] = 0
    blind = marginal_evidence(model, policy, images, mission, [])
    blind.sum().backward()
    assert all(p.grad is None or p.grad.abs().max() < 1e-4 for p in policy.parameters())


def _files(folder) -> dict:
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder)) if (folder / name).is_file()}


def test_no_command_takes_over_a_run_of_another_kind(world):
    """teach.py, the observe trainers and train_tc.py refuse, by name, a run folder another command made."""
    from pathlib import Path

    root, _ = world
    models = Path(root) / "models"
    run_script("train_tc.py", "--env", LEVEL, "--demos", "oracle", "--model", "tc", "--memory-dim", 16, "--instr-dim",
               16, "--batch-size", 4, "--recurrence", 2, "--epochs", 1, "--epoch-length", 4, "--val-episodes", 1,
               "--val-seed", 10**6, "--storage-dir", root)
    runs = {name: _files(models / name) for name in ("tc", "idm")}
    assert "best.pt" in runs["tc"] and "idm.pt" in runs["idm"]
    tc_run = "is a Thought Cloning training run (train_tc.py), not a"
    attempts = [
        (["teach.py", "--env", LEVEL, "--model", "tc", "--teacher", "oracle", "--episodes", 1], tc_run),
        (["train_idm.py", "--env", LEVEL, "--embodiment", "random60", "--model", "tc", "--epochs", 1], tc_run),
        (["train_world_model.py", "--env", LEVEL, "--embodiment", "random60", "--model", "tc", "--updates", 1], tc_run),
        (["train_world_model.py", "--env", LEVEL, "--embodiment", "random60", "--model", "idm", "--updates", 1],
         "model idm is an inverse dynamics model (train_idm.py), not a world model (train_world_model.py)"),
        (["train_il.py", "--env", LEVEL, "--demos", "oracle", "--model", "idm", "--epochs", 1],
         "model idm is an inverse dynamics model (train_idm.py), not a Behavioral Cloning training run"),
    ]
    for (script, *args), needle in attempts:
        proc = run_script(script, *args, "--storage-dir", root, check=False)
        one_line_error(proc, needle, "use another --model")
    assert {name: _files(models / name) for name in runs} == runs  # nothing written, nothing replaced
    assert not (models / "tc" / "snapshots").exists()


def test_embodiment_workers_beyond_the_cores_are_refused(tmp_path):
    proc = run_script("make_embodiment_data.py", "--env", LEVEL, "--episodes", 2, "--workers", 100000,
                      "--storage-dir", tmp_path / "s", check=False, timeout=120)
    limit = 4 * (os.cpu_count() or 1)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines()[-1].endswith(
        f"error: --workers must be at most {limit} (4 per CPU core), got 100000")
    assert not (tmp_path / "s").exists()


def test_two_trainers_on_one_run_the_second_is_refused(world):
    """Two train_world_model.py on one --model mixed their run; the second is refused by the run lock, which a
    killed holder does not keep."""
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    root, _ = world
    folder = os.path.join(root, "models", "wmlock")
    flags = ["--env", LEVEL, "--embodiment", "random60", "--model", "wmlock", "--batch-size", "2", "--seq-len", "4",
             "--episodes", "10", "--deter", "16", "--stoch", "4", "--quiet", "--storage-dir", str(root)]
    first = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "train_world_model.py"), *flags,
                              "--updates", "1000000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.time() + 120
        while time.time() < end and not os.path.exists(os.path.join(folder, "config.json")):
            assert first.poll() is None
            time.sleep(0.05)
        second = run_script("train_world_model.py", *flags, "--updates", 2, check=False)
        one_line_error(second, f"the run {folder} is in use by process {first.pid}")
        assert json.load(open(os.path.join(folder, "config.json")))["updates"] == 1000000
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    run_script("train_world_model.py", *flags, "--updates", 2)  # the lock of a killed trainer is taken over
    assert json.load(open(os.path.join(folder, "wm_eval.json")))["level"] == LEVEL


def test_labelled_copy_waits_for_another_labeller(world, tmp_path):
    """The BCO copy was written in a fixed NAME.tmp folder that a second labeller removed under the first; now
    labellers of one folder take turns (two real processes), and the copy appears whole."""
    import subprocess
    import sys

    from babyai.model import TCConfig
    from babyai.agent.vocab import Vocabulary
    from babyai.observe.bco import write_labelled

    root, _ = world
    parent = tmp_path / "observed-idm"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom babyai.locks import hold\n"
                               "with hold(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(3)", str(parent)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        target = write_labelled(os.path.join(root, "demos", "oracle_valid"), str(parent / "copy"), "idm", str(root),
                                LEVEL, Vocabulary.babyai().to_dict(), TCConfig().image_values)
        assert holder.poll() == 0  # it waited for the other labeller's turn to end
    finally:
        holder.kill()
        holder.wait()
    assert len(open_demos(target)) == len(open_demos(os.path.join(root, "demos", "oracle_valid")))
    assert sorted(os.listdir(parent)) == ["copy"]


def test_real_numbers_are_checked_before_anything_starts(tmp_path):
    base = {"train_world_model.py": ["--embodiment", "e"], "train_aime.py": ["--demos", "d", "--world-model", "w"],
            "train_iidm.py": ["--embodiment", "e", "--demos", "d"], "train_idm.py": ["--embodiment", "e"]}
    for script, flags, needle in (
            ("train_world_model.py", ["--free-nats", "nan"], "--free-nats must be a finite number in [0, inf), got nan"),
            ("train_world_model.py", ["--free-nats", "inf"], "--free-nats must be a finite number in [0, inf), got inf"),
            ("train_world_model.py", ["--kl-balance", "nan"], "--kl-balance must be a finite number in [0, 1], got nan"),
            ("train_aime.py", ["--tau", "inf"], "--tau must be a finite number in (0, inf), got inf"),
            ("train_iidm.py", ["--tau", "0"], "--tau must be a finite number in (0, inf), got 0.0"),
            ("train_idm.py", ["--lr", "nan"], "--lr must be a finite number in (0, inf), got nan"),
            ("train_idm.py", ["--seed", "-1"], "--seed must be a non-negative integer, got -1")):
        proc = run_script(script, "--env", LEVEL, "--model", "m", *base[script], *flags, storage=tmp_path / "s",
                          check=False)
        one_line_error(proc, needle)
        assert proc.returncode == 2 and not (tmp_path / "s").exists()


def test_the_typed_settings_are_the_flags():
    """The report gives babyai.observe.mains typed settings: their fields and defaults are the commands' flags
    (a run's config.json, which a resume compares, is the same whichever made it)."""
    from babyai.observe import cli
    from babyai.observe.constants import AimeRun, IIDMRun, WorldModelRun

    required = {"env": LEVEL, "embodiment": "e", "demos": "d", "world_model": "w", "model": "m"}
    for parse, settings in ((cli.world_model_args, WorldModelRun), (cli.aime_args, AimeRun),
                            (cli.iidm_args, IIDMRun)):
        names = [f.name for f in dataclasses.fields(settings) if f.default is dataclasses.MISSING]
        argv = [x for name in names for x in (f"--{name.replace('_', '-')}", required[name])]
        assert list(vars(parse(argv)).items()) == list(dataclasses.asdict(settings(**{n: required[n] for n in names})).items())
