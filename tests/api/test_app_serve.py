"""``serve()`` as a user runs it: a separate process, two uvicorn workers sharing Redis."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from recommender import artifacts

from .conftest import auth, wait_until

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def model_info_by_pid(metrics: str) -> dict[str, str]:
    """pid -> version each live worker reports serving (the multiprocess 'liveall' gauge)."""
    out = {}
    for labels, value in re.findall(r"servicematch_model_info\{([^}]*)\} ([0-9.]+)", metrics):
        fields = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if float(value) == 1.0:
            out[fields["pid"]] = fields["version"]
    return out


@pytest.mark.slow
def test_serve_with_two_workers_and_redis(models_dir, api_keys, trained, redis_url, tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    code = (f"from api.serve import serve; serve({str(models_dir)!r}, {str(api_keys['file'])!r}, "
            f"port={port}, workers=2, redis_url={redis_url!r}, refresh_interval=0.2)")
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    secret = "zq-serve-secret-5521"
    try:
        def up():
            try:
                return httpx.get(base + "/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_until(up, timeout=60), log.read_text()
        with httpx.Client(base_url=base, headers=auth(api_keys["caseworker"]), timeout=30) as c:
            for _ in range(12):
                r = c.post("/v1/recommendations", json={"profile": {"age": 50, "district": secret}})
                assert r.status_code == 200
            assert c.get("/v1/residents/R000042/recommendations?k=3").status_code == 200
            # Both workers answer, and /metrics on either one reports the whole server.
            assert wait_until(lambda: len(model_info_by_pid(c.get("/metrics").text)) == 2, timeout=20)
            text = c.get("/metrics").text
            total = re.search(r'servicematch_requests_total\{method="POST",route="/v1/recommendations",'
                              r'status="200"\} ([0-9.]+)', text)
            assert total and float(total.group(1)) == 12

            artifacts.set_current(models_dir, trained["v2"])
            assert wait_until(lambda: set(model_info_by_pid(c.get("/metrics").text).values())
                              == {trained["v2"]}, timeout=20)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert secret not in text
    access = [line for line in text.splitlines() if "servicematch.access" in line]
    assert any("POST /v1/recommendations 200" in line for line in access)
    assert any("GET /v1/residents/R000042/recommendations 200" in line for line in access)
    assert not any("k=3" in line for line in text.splitlines())  # no query strings anywhere
    assert proc.returncode == 0, text[-3000:]


def test_serve_refuses_a_missing_models_dir_or_keys_file(tmp_path):
    from api.serve import serve

    with pytest.raises(FileNotFoundError, match="models directory"):
        serve(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="API keys file"):
        serve(tmp_path, keys_file=tmp_path / "keys.toml")
