"""Shared fixtures: real redis-server processes for the Redis state backend.

- ``redis_server`` (session): one redis-server on a free loopback port in a temp dir, with the
  durable settings (``--save '' --appendonly yes --appendfsync always``); yields its URL.
- ``redis_url`` (per test): the same server, emptied (FLUSHALL) before the test.
- ``redis_factory`` (per test): start dedicated servers a test may kill, pause or restart;
  every one is killed at the end of the test.

Without a ``redis-server`` binary on PATH (Debian package ``redis-server``) these skip with that
reason; CI installs it.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REDIS_BINARY = "redis-server"
DURABLE_ARGS = ("--save", "", "--appendonly", "yes", "--appendfsync", "always")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    # Linux: the server gets SIGKILL if pytest itself dies, so no server outlives the run.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _ping(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisProcess:
    """A real redis-server bound to 127.0.0.1, with its data (AOF) in ``directory``.

    ``config`` is an optional config file; the loopback/port/dir options given here override it.
    Restarting keeps the port and directory, which is what a crash-and-restart looks like.
    """

    def __init__(self, directory: Path, *, config: Path | None = None, args: tuple[str, ...] = DURABLE_ARGS):
        binary = shutil.which(REDIS_BINARY)
        if binary is None:
            pytest.skip(f"{REDIS_BINARY} not found on PATH (Debian package redis-server; CI installs it)")
        self.binary = binary
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.args = args
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> "RedisProcess":
        fixed_port = self.port is not None
        for _ in range(1 if fixed_port else 5):
            port = self.port if fixed_port else _free_port()
            cmd = [self.binary]
            if self.config is not None:
                cmd.append(str(self.config))
            cmd += [
                "--port", str(port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                "--daemonize", "no", "--logfile", str(self.directory / "redis.log"), *self.args,
            ]
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and proc.poll() is None:
                if _ping(port):
                    self.port, self.proc = port, proc
                    return self
                time.sleep(0.02)
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        log = self.directory / "redis.log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
        raise RuntimeError(f"redis-server did not start in {self.directory}:\n{tail}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kill without any chance to flush: what a crash looks like."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)
        self.proc = None

    def pause(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a paused server cannot act on SIGTERM
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """URL of a session-wide durable redis-server (see module docstring)."""
    server = RedisProcess(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server):
    """The session server, emptied before this test."""
    import redis

    client = redis.Redis.from_url(redis_server)
    try:
        client.flushall()
    finally:
        client.close()
    return redis_server


@pytest.fixture
def redis_factory(tmp_path):
    """``redis_factory(config=None)`` -> a started ``RedisProcess`` of this test's own."""
    started: list[RedisProcess] = []

    def start(*, config: Path | None = None, args: tuple[str, ...] = DURABLE_ARGS, name: str | None = None) -> RedisProcess:
        server = RedisProcess(tmp_path / (name or f"redis{len(started)}"), config=config, args=args)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


# --------------------------------------------------------------------------- a small trained city
# One small generated city and one model trained on it, shared by every test that needs a real model
# (training them takes a few seconds; the tests must not each pay for it).

SMALL_CITY = dict(residents=3000, services=200, seed=3)


@pytest.fixture(scope="session")
def city_dir(tmp_path_factory):
    from training.generate import generate_city

    out = tmp_path_factory.mktemp("city")
    generate_city(out, progress=False, **SMALL_CITY)
    return out


@pytest.fixture(scope="session")
def trained_models(city_dir, tmp_path_factory):
    """A models root with one trained, current version (read-only for tests: copy it to change it)."""
    from training.pipeline import train

    models = tmp_path_factory.mktemp("models")
    train(city_dir, models, epochs=5, eval_residents=300, quiet=True)
    return models


@pytest.fixture(scope="session")
def recommender(trained_models):
    from recommender.engine import Recommender

    return Recommender.load(trained_models)
