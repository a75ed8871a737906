"""Fixtures of the console tests: the real API (``servicematch serve`` in its own process, on a free
loopback port) over the shared small trained city, API keys for every role, and a real headless
Chromium driven by Selenium through the system chromedriver.

Chromium comes from Debian (``chromium``, ``chromium-driver``; .ci/run installs them). Without
them the browser tests skip with that reason. Selenium's own driver download needs the internet,
so the driver is always the system one.

Screenshots go to ``tests/out/`` (git-ignored), where the suite's output is kept.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import api_keys  # noqa: F401 -- the same session fixture: one key per role

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "out"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
#: Chromium flags for a test run: headless, and nothing that phones home on its own (so the
#: "no request to another host" check sees only what the pages ask for).
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1200,1600")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def link_models(trained_models: Path, root: Path) -> Path:
    """A models dir of a test's own (its CURRENT, its SQLite state, its new versions) that links the
    shared trained versions (read-only)."""
    from recommender import artifacts

    root.mkdir(parents=True)
    for version in (p for p in trained_models.iterdir() if (p / "model.json").exists()):
        (root / version.name).symlink_to(version, target_is_directory=True)
    artifacts.set_current(root, artifacts.current_version(trained_models))
    return root


@pytest.fixture(scope="session")
def console_models(trained_models, tmp_path_factory) -> Path:
    return link_models(trained_models, tmp_path_factory.mktemp("console") / "models")


@pytest.fixture(scope="session")
def console_keys(api_keys) -> dict:
    """A keys file with one key per role (the API tests' fixture)."""
    return api_keys


@pytest.fixture(scope="session")
def live_api(console_models, console_keys, tmp_path_factory):
    """Base URL of ``servicematch serve`` running as a user runs it (a separate process)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("console-server") / "server.log"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PROMETHEUS_MULTIPROC_DIR")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "training.cli", "serve", "--models", str(console_models),
             "--keys", str(console_keys["file"]), "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield base
    finally:
        if proc.poll() is None:  # a server that failed to start is already gone
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} not found (Debian packages chromium and chromium-driver; .ci/run installs them)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium with the DevTools performance log on (every network request is seen)."""
    reason = _browser_missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="console-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which(CHROMIUM) or CHROMIUM
    for flag in (*CHROME_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which(CHROMEDRIVER) or CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def out_dir() -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    return OUT
