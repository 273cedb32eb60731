"""Teaching sessions: the data format, the session loop with the oracle as teacher (a Thought-DAgger)
with online training in a separate process, resuming a killed session, and bad input."""

import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from babyai.bot import Bot
from babyai.demos import open_demos
from babyai.levels import make_env, reset_env
from babyai.model import TCConfig
from babyai.teach import OnlineConfig, TeachConfig, teach
from babyai.teach.agent import normalize_thought
from babyai.teach.data import TeachingWriter, quarter_rates, read_csv
from babyai.teach.session import TeachingSession, ThoughtRefused
from tests._agent_helpers import untrained_policy
from tests.conftest import ROOT, run_script

LEVEL = "BabyAI-GoToLocal-v0"
TINY = TCConfig(memory_dim=32, instr_dim=32, image_dim=16)


class FixedSnapshots:
    """Snapshot 0 for every episode (no trainer)."""

    def __init__(self, policy):
        self.policy = policy

    def latest_policy(self, episode):
        return 0, self.policy


def make_session(tmp_path, kind="tc", episodes=0, teacher="human"):
    writer = TeachingWriter(str(tmp_path / "demos"), str(tmp_path / "teaching.csv"), LEVEL)
    return TeachingSession(LEVEL, writer, FixedSnapshots(untrained_policy(kind)), teacher, episodes=episodes)


def test_rewritten_thought_is_what_the_action_generator_acts_on(tmp_path):
    s = make_session(tmp_path)
    with pytest.raises(ThoughtRefused, match="blorp, zed"):
        s.rewrite_thought("go to the zed blorp")
    own = s.proposal.thought
    sentence = "go to blue key to complete goto mission"
    s.rewrite_thought(sentence)
    assert s.proposal.thought == own and s.proposal.acting_thought == sentence and s.proposal.rewritten
    # the same network stepped from the start with the sentence injected proposes the same action
    ref = untrained_policy("tc")
    ref.model.eval()
    ref.begin([s.episode.mission])
    out = ref.step(np.array([0]), s.episode.obs["image"][None], [sentence])
    assert int(out.logits[0].argmax()) == s.proposal.action
    s.act(3)  # override with pickup
    s.end()
    ep = open_demos(str(tmp_path / "demos"))[0]
    assert ep.thoughts == [sentence] and ep.actions.tolist() == [3]
    assert ep.teaching["proposed_thoughts"] == [own] and ep.teaching["ended"] == "session end"
    assert ep.teaching["thought_overridden"] == [1]
    assert ep.teaching["action_overridden"] == [int(ep.teaching["proposed_actions"][0] != 3)]


def test_bc_agent_has_no_thought_to_rewrite(tmp_path):
    s = make_session(tmp_path, kind="bc")
    with pytest.raises(ThoughtRefused, match="Behavioral Cloning"):
        s.rewrite_thought("explore unseen area")
    assert s.proposal.thought == ""


def test_writer_resumes_and_reset_replays_the_level(tmp_path):
    s = make_session(tmp_path)
    s.act(None)
    s.act(0)
    s.reset_level()  # the two steps are kept; the same level starts again
    assert s.episode.seed == 0 and s.episode.steps == []
    s.act(None)
    s.end()
    rows = read_csv(str(tmp_path / "teaching.csv"))
    assert [(r["episode"], r["steps"]) for r in rows] == [(0, 2), (1, 1)]
    # meta.json one episode behind its shard (a kill between the two writes): reopening repairs it
    import json
    meta_path = tmp_path / "demos" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "num_episodes": 1}))
    s2 = make_session(tmp_path)
    assert s2.writer.num_episodes == 2 and s2.episode.seed == 1  # the next level
    s2.act(None)
    s2.end()
    demos = open_demos(str(tmp_path / "demos"))
    assert [ep.seed for ep in demos] == [0, 0, 1]
    assert len(read_csv(str(tmp_path / "teaching.csv"))) == 3


def replay_oracle(ep):
    """The oracle's (action, thought) at every step of ``ep``, following the performed actions."""
    env = make_env(LEVEL)
    obs = reset_env(env, ep.seed)
    bot, last, out = Bot(env), None, []
    for action in ep.actions.tolist():
        action, thought = bot.replan(last, obs["image"])
        out.append((action, normalize_thought(thought)))
        obs, *_ = env.step(action)
        last = action
    return out


@pytest.mark.slow
def test_oracle_teacher_session_learns_online(storage):
    """~100 GoToLocal episodes of a tiny TC agent taught by the oracle; one trainer update per episode."""
    online = OnlineConfig("", "", batch_size=4, lr=2e-3, updates_per_episode=1, snapshot_every=5)
    cfg = TeachConfig(LEVEL, "dagger", teacher="oracle", episodes=100, model=TINY, storage=str(storage), online=online)
    rows = teach(cfg, progress=False)
    assert len(rows) == 100
    assert read_csv(os.path.join(str(storage), "models", "dagger", "teaching.csv")) == rows
    demos = open_demos(os.path.join(str(storage), "demos", "dagger_teaching"))
    assert len(demos) == 100 and [ep.seed for ep in demos] == list(range(100))
    for ep, row in zip(demos, rows):
        t = ep.teaching
        assert t["teacher"] == "oracle" and t["snapshot"] == row["snapshot"]
        assert t["action_overridden"] == [int(a != p) for a, p in zip(ep.actions.tolist(), t["proposed_actions"])]
        assert t["thought_overridden"] == [int(a != p) for a, p in zip(ep.thoughts, t["proposed_thoughts"])]
        assert row["action_overrides"] == sum(t["action_overridden"]) and row["steps"] == len(ep)
    for ep in list(demos)[:: 10]:  # the labels are the oracle's, replanned from the actual state
        assert replay_oracle(ep) == list(zip(ep.actions.tolist(), ep.thoughts))
    # with sync, episode n is played by the snapshot of its n updates: snapshots advance
    assert [r["snapshot"] for r in rows] == [online.required_version(n) for n in range(100)]
    assert os.path.exists(os.path.join(str(storage), "models", "dagger", "best.pt"))
    rates = quarter_rates(rows, "action_overrides")
    assert rates[3] < rates[0] - 0.05, rates


def teach_cmd(name, episodes):
    return ["teach.py", "--env", LEVEL, "--model", name, "--teacher", "oracle", "--episodes", episodes,
            "--memory-dim", 32, "--instr-dim", 32, "--batch-size", 4, "--updates-per-episode", 1,
            "--snapshot-every", 2]


@pytest.mark.slow
def test_killed_session_resumes_to_the_same_data(storage):
    whole = run_script(*teach_cmd("whole", 8), storage=storage)
    assert "8 episodes" in whole.stdout and "action override rate per quarter of the session: " in whole.stdout
    jsonl = run_script("show_demos.py", "whole_teaching", "--jsonl", "--count", 1, storage=storage).stdout
    assert '"action_overridden": [' in jsonl and '"proposed_thoughts": [' in jsonl and '"snapshot": 0' in jsonl

    env = dict(os.environ, BABYAI_STORAGE=str(storage))
    csv_path = os.path.join(str(storage), "models", "killed", "teaching.csv")
    script, *args = map(str, teach_cmd("killed", 8))
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", script), *args],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.time() + 300
        while time.time() < end and proc.poll() is None:
            if os.path.exists(csv_path) and len(open(csv_path).readlines()) > 3:  # header + 3 episodes
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)  # no clean-up at all; the trainer process notices and stops
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL and 3 <= len(read_csv(csv_path)) < 8
    run_script(*teach_cmd("killed", 8), storage=storage)
    a = open_demos(os.path.join(str(storage), "demos", "whole_teaching"))
    b = open_demos(os.path.join(str(storage), "demos", "killed_teaching"))
    assert len(a) == len(b) == 8
    for x, y in zip(a, b):
        assert (x.seed, x.actions.tolist(), x.thoughts, x.teaching) == (y.seed, y.actions.tolist(), y.thoughts, y.teaching)
        assert np.array_equal(x.images, y.images)
    assert read_csv(csv_path) == read_csv(os.path.join(str(storage), "models", "whole", "teaching.csv"))


def test_bad_input(storage):
    p = run_script("teach.py", "--env", "BabyAI-GoToLocl-v0", "--model", "x", storage=storage, check=False)
    assert p.returncode != 0 and p.stderr.strip().startswith("error: unknown level") and "GoToLocal" in p.stderr
    p = run_script("teach.py", "--env", LEVEL, "--model", "x", "--teacher", "oracle", "--episodes", 0,
                   storage=storage, check=False)
    assert p.returncode == 2 and p.stderr.strip() == "error: --teacher oracle needs --episodes N"
    p = run_script("teach.py", "--env", LEVEL, "--model", "x", "--teacher", "oracle", "--pretrained-model", "nope",
                   storage=storage, check=False)
    assert p.returncode == 2 and p.stderr.strip().startswith("error: ") and "nope" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and not os.path.exists(os.path.join(str(storage), "models", "x"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        p = run_script("teach.py", "--env", LEVEL, "--model", "y", "--port", port, storage=storage, check=False)
    assert p.returncode == 2 and p.stderr.strip() == (f"error: port {port} is in use on 127.0.0.1: stop what uses it "
                                                      "or pass another --port")
    assert not os.path.exists(os.path.join(str(storage), "models", "y"))  # nothing left behind


def test_masked_step_with_every_label_is_the_projects_backward_step():
    """--train-on overridden's masked loss, with every step a label, gives the project's gradients."""
    import copy

    import torch

    from babyai.teach.agent import LossSettings, backward, fresh_network, make_tokenizer
    from tests._train_helpers import synthetic_episode

    rng = np.random.default_rng(0)
    episodes = [synthetic_episode(n, seed, rng) for seed, n in enumerate((7, 3, 5))]
    a, vocab = fresh_network("tc", TINY, 0)
    b = copy.deepcopy(a)
    tokenizer, settings = make_tokenizer(vocab, a), LossSettings(recurrence=3, entropy_coef=0.01, sg_coef=2.0)
    grads = []
    for model, masks in ((a, None), (b, [(np.ones(len(e), bool), np.ones(len(e), bool)) for e in episodes])):
        torch.manual_seed(0)
        model.train()
        backward(model, episodes, tokenizer, settings, masks)
        grads.append([p.grad.clone() for p in model.parameters() if p.grad is not None])
    assert len(grads[0]) == len(grads[1]) > 0
    for x, y in zip(*grads):
        assert torch.allclose(x, y, atol=1e-6)
    # masking the thought labels removes the thought loss's gradient from the Thought Generator's decoder
    c = copy.deepcopy(a)
    c.zero_grad()
    backward(c, episodes, tokenizer, settings, [(np.ones(len(e), bool), np.zeros(len(e), bool)) for e in episodes])
    decoder = [p.grad for n, p in c.named_parameters() if "decoder" in n]
    assert decoder and all(g is None or float(g.abs().max()) == 0 for g in decoder)


def test_numbers_are_checked_before_anything_starts(storage):
    from tests.conftest import one_line_error

    for flags, needle in ((["--port", 70000], "--port must be a port number, 0 to 65535, got 70000"),
                          (["--level-seed", -5], "--level-seed must be a non-negative integer, got -5"),
                          (["--lr", "nan"], "--lr must be a finite number in (0, inf), got nan"),
                          (["--beta2", "inf"], "--beta2 must be a finite number in [0, 1), got inf"),
                          (["--sg-coef", "-1"], "--sg-coef must be a finite number in [0, inf), got -1.0")):
        p = run_script("teach.py", "--env", LEVEL, "--model", "x", "--teacher", "oracle", "--episodes", 2, *flags,
                       storage=storage, check=False)
        one_line_error(p, needle)
        assert p.returncode == 2 and not os.path.exists(storage)


def test_resume_refuses_changed_settings(storage):
    """Another --snapshot-every on resume deadlocked (the snapshots waited for were discarded); another
    --memory-dim was silently ignored: both are refused, on one line, before anything runs."""
    from tests.conftest import one_line_error

    run_script(*teach_cmd("s", 2), storage=storage)
    csv_path = os.path.join(str(storage), "models", "s", "teaching.csv")
    before = open(csv_path).read()
    for flags, needle in ((["--snapshot-every", 3], "--snapshot-every 2 (not 3)"),
                          (["--memory-dim", 64], "--memory-dim 32 (not 64)"),
                          (["--seed", 2, "--lr", "1e-3"], "--lr 0.0005 (not 0.001), --seed 1 (not 2)")):
        p = run_script(*teach_cmd("s", 4), *flags, storage=storage, check=False, timeout=120)
        one_line_error(p, "the session s was taught with " + needle, "resume it with the same settings")
        assert p.returncode == 2 and open(csv_path).read() == before


def test_trainer_state_is_one_file_a_crash_between_writes_resumes(storage):
    """The old trainer wrote trainer.pt then trainer.json: killed between the two, the resumed session waited
    forever for a snapshot it had discarded. The state is one file now; a stale trainer.json is ignored."""
    run_script(*teach_cmd("c", 4), storage=storage)
    folder = os.path.join(str(storage), "models", "c")
    assert os.path.exists(os.path.join(folder, "trainer.pt")) and not os.path.exists(os.path.join(folder, "trainer.json"))
    with open(os.path.join(folder, "trainer.json"), "w") as f:  # what the old crash left: one snapshot behind
        f.write('{"updates": 2}\n')
    run_script(*teach_cmd("c", 6), storage=storage, timeout=180)
    rows = read_csv(os.path.join(folder, "teaching.csv"))
    online = OnlineConfig("", "", updates_per_episode=1, snapshot_every=2)
    assert [r["snapshot"] for r in rows] == [online.required_version(n) for n in range(6)]


def test_a_snapshot_that_does_not_load_is_skipped_once_and_never_published(tmp_path, caplog):
    from babyai.teach.agent import fresh_network
    from babyai.teach.online import Snapshots, SnapshotStore

    store = SnapshotStore(str(tmp_path))
    for version in (0, 1, 2):
        store.publish(version, *fresh_network("tc", TINY, version))
    with open(store.path(2), "wb") as f:
        f.write(b"not a checkpoint")
    snapshots = Snapshots(store, OnlineConfig("", "", snapshot_every=1, updates_per_episode=1), sync=True, trainer=None)
    with caplog.at_level("WARNING", logger="babyai.teach.online"):
        for episode in range(3):  # the session goes on with snapshot 1
            version, policy = snapshots.latest_policy(episode)
            assert version == 1 and policy.thinks
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["snapshot 2 cannot be loaded and is skipped"]
    assert store.publish_best(str(tmp_path)) == 1
    assert open(tmp_path / "best.pt", "rb").read() == open(store.path(1), "rb").read()


def _children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(c) for c in f.read().split()]


def test_killing_the_trainer_ends_the_session_on_one_line_with_a_fresh_best(storage):
    env = dict(os.environ, BABYAI_STORAGE=str(storage))
    folder = os.path.join(str(storage), "models", "k")
    script, *args = map(str, teach_cmd("k", 40))
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", script), *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        end = time.time() + 300
        while time.time() < end and proc.poll() is None:
            if os.path.exists(os.path.join(folder, "teaching.csv")) and len(read_csv(os.path.join(folder, "teaching.csv"))) >= 3:
                break
            time.sleep(0.05)
        trainer = [c for c in _children(proc.pid) if b"resource_tracker" not in open(f"/proc/{c}/cmdline", "rb").read()]
        assert len(trainer) == 1
        os.kill(trainer[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("error: the online trainer stopped (killed by signal 9)")
    snapshots = sorted(os.listdir(os.path.join(folder, "snapshots")))
    best = open(os.path.join(folder, "best.pt"), "rb").read()
    assert best == open(os.path.join(folder, "snapshots", snapshots[-1]), "rb").read()
