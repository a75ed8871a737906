"""Fixtures of the HTTP API tests: a small generated city trained twice (two model versions), API keys
for every role, per-test models dirs, both state backends and real uvicorn servers on loopback.
"""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from api.limits import ROLES


@pytest.fixture(scope="session")
def city(tmp_path_factory) -> Path:
    from training.generate import generate_city

    out = tmp_path_factory.mktemp("city")
    generate_city(out, residents=3000, services=200, seed=7, progress=False)
    return out


@pytest.fixture(scope="session")
def trained(city, tmp_path_factory) -> dict:
    """Two model versions of the same city: ``v1`` (CURRENT at the start of each test) and ``v2``."""
    from training.pipeline import train

    root = tmp_path_factory.mktemp("trained")
    v1 = train(city, root, epochs=3, quiet=True, seed=0).version
    v2 = train(city, root, epochs=3, quiet=True, seed=1, force=True).version
    assert v1 != v2
    return {"root": root, "v1": v1, "v2": v2}


def make_models_dir(trained: dict, path: Path) -> Path:
    """A models dir of the test's own (its CURRENT and its SQLite state), sharing the versions."""
    from recommender import artifacts

    path.mkdir(parents=True, exist_ok=True)
    for v in (trained["v1"], trained["v2"]):
        (path / v).symlink_to(trained["root"] / v, target_is_directory=True)
    artifacts.set_current(path, trained["v1"])
    return path


@pytest.fixture
def models_dir(trained, tmp_path) -> Path:
    return make_models_dir(trained, tmp_path / "models")


@pytest.fixture(scope="session")
def api_keys(tmp_path_factory) -> dict:
    """keys file + one token per role: {"file": Path, "caseworker": token, ...}."""
    from api.keys import add_key

    path = tmp_path_factory.mktemp("keys") / "keys.toml"
    out = {"file": path}
    for role in ROLES:
        out[role] = add_key(path, role, label=f"test {role}")[1]
    return out


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(params=["sqlite", "redis"])
def state_backend(request) -> dict:
    """create_app keyword arguments selecting a state backend: the SQLite file of the models dir,
    or the real redis-server of tests/conftest.py (emptied for this test)."""
    if request.param == "sqlite":
        return {}
    return {"redis_url": request.getfixturevalue("redis_url")}


class LiveServer:
    """A real uvicorn serving ``app`` on a loopback port, in a thread; lifespan included."""

    def __init__(self, app):
        import uvicorn

        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                                    lifespan="on", timeout_graceful_shutdown=5))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()
        assert not self.thread.is_alive(), "uvicorn did not stop"

    def client(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=auth(token) if token else {}, timeout=30)


@pytest.fixture
def serve_app():
    """``serve_app(app)`` -> a started LiveServer, stopped at the end of the test."""
    started: list[LiveServer] = []

    def start(app) -> LiveServer:
        server = LiveServer(app).__enter__()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.__exit__(None, None, None)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def run_threads(n: int, work) -> list[BaseException]:
    """Run ``work(0)`` .. ``work(n - 1)`` in ``n`` threads at once and wait for all; returns what they
    raised (a thread's exception would otherwise vanish, and the test pass)."""
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            work(i)
        except Exception as exc:  # noqa: BLE001 -- handed to the test
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors
