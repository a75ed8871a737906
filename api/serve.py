"""Run the API under uvicorn: ``servicematch serve`` calls :func:`serve`.

One worker: the app is built here, in this process. Several workers: each worker process builds
its own app from the environment (``app_from_env``), so they must share state through Redis
(``REDIS_URL``) or the SQLite file in the models dir; Prometheus metrics then go through
multiprocess mode (a temporary ``PROMETHEUS_MULTIPROC_DIR``) so ``/metrics`` on any worker
reports the whole server.

Logging: uvicorn's own access log is off (it would log query strings); the app logs one line per
request with method, path, status, time and request id -- never a body, a query string or a
profile.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

ENV_MODELS = "SERVICEMATCH_MODELS_DIR"
ENV_KEYS = "SERVICEMATCH_KEYS_FILE"  # the same variable api.keys reads
ENV_REFRESH = "SERVICEMATCH_REFRESH_INTERVAL"


def log_config(access_log: bool = True, level: str = "info") -> dict:
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                                "stream": "ext://sys.stderr"}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": level, "propagate": False},
            # Never let uvicorn's access logger print (it would include query strings).
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "servicematch": {"handlers": ["stderr"], "level": level, "propagate": False},
            "servicematch.access": {"handlers": ["stderr"], "propagate": False,
                                    "level": "INFO" if access_log else "WARNING"},
        },
    }


def app_from_env():
    """uvicorn factory for worker processes: the settings travel in the environment."""
    from api.app import create_app

    models = os.environ.get(ENV_MODELS)
    if not models:
        raise RuntimeError(f"{ENV_MODELS} is not set (start the server with servicematch serve)")
    return create_app(models, keys_file=os.environ.get(ENV_KEYS) or None,
                      redis_url=os.environ.get("REDIS_URL") or None,
                      refresh_interval=float(os.environ.get(ENV_REFRESH, "2.0")))


def serve(models_dir: str | os.PathLike, keys_file: str | os.PathLike | None = None,
          host: str = "127.0.0.1", port: int = 8000, workers: int = 1, *,
          redis_url: str | None = None, access_log: bool = True, log_level: str = "info",
          cache: bool | None = None, refresh_interval: float = 2.0) -> None:
    """Serve until interrupted. ``redis_url`` defaults to ``$REDIS_URL`` (no URL: SQLite state);
    ``cache=False`` is ``SERVICEMATCH_CACHE=off``."""
    import uvicorn

    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        raise FileNotFoundError(f"models directory {models_dir} does not exist")
    if keys_file is not None and not Path(keys_file).is_file():
        raise FileNotFoundError(f"API keys file {keys_file} does not exist "
                                f"(create one with: python -m api.keys --keys {keys_file} add admin)")
    common = dict(host=host, port=port, access_log=False, log_config=log_config(access_log, log_level),
                  server_header=False)
    if workers == 1:
        from api.app import create_app

        app = create_app(models_dir, keys_file=keys_file, redis_url=redis_url, cache=cache,
                         refresh_interval=refresh_interval)
        uvicorn.run(app, **common)
        return

    os.environ[ENV_MODELS] = str(models_dir.resolve())
    if keys_file is not None:
        os.environ[ENV_KEYS] = str(Path(keys_file).resolve())
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    if cache is not None:
        os.environ["SERVICEMATCH_CACHE"] = "on" if cache else "off"
    os.environ[ENV_REFRESH] = str(refresh_interval)
    own_metrics_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        own_metrics_dir = tempfile.mkdtemp(prefix="servicematch-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_metrics_dir
    try:
        uvicorn.run("api.serve:app_from_env", factory=True, workers=workers, **common)
    finally:
        if own_metrics_dir is not None:
            shutil.rmtree(own_metrics_dir, ignore_errors=True)
