"""The teaching page in a real browser: headless Chromium (Debian's chromium + chromium-driver) driven by
Selenium opens the page (before its first state: a box saying why, no broken image), sees the mission and
the thought, approves a step, overrides an action with a key, rewrites a thought, and the recorded data
holds exactly those three steps."""

import os
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
KEYS_OF = {"left": "ArrowLeft", "right": "ArrowRight"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=90, what="the page"):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def require_chromium(paths=(CHROMIUM, CHROMEDRIVER)) -> None:
    """Skip when Chromium or its driver is missing, unless $CI is "true": CI installs them (.ci/run), so there
    a missing one fails loudly instead of passing unnoticed."""
    missing = [path for path in paths if not os.path.exists(path)]
    if not missing:
        return
    message = f"{' and '.join(missing)} missing: apt-get install chromium chromium-driver"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def browser():
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1100,800"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.mark.browser
def test_teach_in_the_browser(browser, storage):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from babyai.demos import open_demos
    from babyai.levels import make_env, reset_env

    port = free_port()
    env = dict(os.environ, BABYAI_STORAGE=str(storage), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "scripts", "teach.py"), "--env", "BabyAI-GoToLocal-v0", "--model", "web",
         "--memory-dim", "32", "--instr-dim", "32", "--port", str(port), "--updates-per-episode", "1",
         "--batch-size", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert f"teaching page: http://127.0.0.1:{port}/?token=" in line, line
        url = line.split()[2]
        d = browser
        text = lambda i: d.find_element(By.ID, i).text  # noqa: E731
        d.get(f"http://127.0.0.1:{port}/")  # without the token: the page says what to open
        wait_for(lambda: "?token=" in text("status"), what="the missing token")
        # no state yet: a box says why instead of a broken image, and the mission says it is waiting
        assert not d.find_element(By.ID, "frame").is_displayed()
        assert text("waiting") == "not connected: open the URL teach.py printed"
        assert text("mission") == "(waiting for the first state)"
        d.get(url)
        moves = lambda: int(d.find_element(By.TAG_NAME, "body").get_attribute("data-moves") or -1)  # noqa: E731
        keys = lambda *k: ActionChains(d).send_keys(*k).perform()  # noqa: E731

        mission = reset_env(make_env("BabyAI-GoToLocal-v0"), 0)["mission"]
        wait_for(lambda: text("mission") == mission and text("thought"), what="the mission and the thought")
        assert d.find_element(By.ID, "frame").get_attribute("src").startswith("data:image/png")
        assert d.find_element(By.ID, "frame").is_displayed() and not d.find_element(By.ID, "waiting").is_displayed()

        # 1. approve
        approved = text("action")
        keys(Keys.SPACE)
        wait_for(lambda: moves() == 1, what="the approved step")
        # 2. override the action with a key (one the agent did not propose), then an unknown key: ignored
        overridden = "right" if text("action") == "left" else "left"
        keys(getattr(Keys, {"ArrowLeft": "ARROW_LEFT", "ArrowRight": "ARROW_RIGHT"}[KEYS_OF[overridden]]))
        wait_for(lambda: moves() == 2, what="the overridden step")
        keys("z", "9")
        # a closed tab loses nothing: the page reopened shows the same session
        d.refresh()
        wait_for(lambda: moves() == 2 and text("mission"), what="the page reopened")
        # 3. rewrite the thought: unknown words are refused, by name
        box = d.find_element(By.ID, "thought-input")
        box.send_keys("go to the zorp ball", Keys.ENTER)
        wait_for(lambda: "zorp" in text("message"), what="the refusal")
        sentence = "go to blue key to complete goto mission"
        box.clear()
        box.send_keys(sentence, Keys.ENTER)
        wait_for(lambda: text("acting") == sentence, what="the rewritten thought")
        acted = text("action")
        keys(Keys.SPACE)
        wait_for(lambda: moves() == 3, what="the step on the rewritten thought")
        assert moves() == 3  # the unknown keys made no step
        d.find_element(By.ID, "end").click()
        wait_for(lambda: d.find_element(By.TAG_NAME, "body").get_attribute("data-ended") == "yes", what="the end")
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
        out = proc.stdout.read()
    assert proc.returncode == 0, out

    names = ("left", "right", "forward", "pickup", "drop", "toggle", "done")
    demos = open_demos(os.path.join(str(storage), "demos", "web_teaching"))
    steps = [(ep, t) for ep in demos for t in range(len(ep))]
    assert len(steps) == 3
    actions = [names[ep.actions[t]] for ep, t in steps]
    flags = [(ep.teaching["action_overridden"][t], ep.teaching["thought_overridden"][t]) for ep, t in steps]
    assert actions == [approved, overridden, acted]
    assert flags == [(0, 0), (1, 0), (0, 1)]
    ep, t = steps[2]
    assert ep.thoughts[t] == sentence and ep.teaching["proposed_thoughts"][t] != sentence
    assert all(e.teaching["teacher"] == "human" for e in demos)


def test_missing_chromium_skips_outside_ci_and_fails_in_ci(monkeypatch, tmp_path):
    paths = (str(tmp_path / "chromium"), str(tmp_path / "chromedriver"))
    for ci, outcome in ((None, pytest.skip.Exception), ("false", pytest.skip.Exception), ("true", pytest.fail.Exception)):
        if ci is None:
            monkeypatch.delenv("CI", raising=False)
        else:
            monkeypatch.setenv("CI", ci)
        with pytest.raises(outcome, match="chromedriver missing: apt-get install chromium chromium-driver"):
            require_chromium(paths)
