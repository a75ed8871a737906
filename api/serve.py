"""Run the API under uvicorn: ``servicematch serve`` calls :func:`serve`.

One worker: the app is built here, in this process. Several workers: each worker process builds
its own app from the settings this process passes it as one value (``api.settings.to_worker``:
their JSON in one variable, read back by ``for_worker``), so they must share state through Redis
or the SQLite file in the models dir; Prometheus metrics then go through multiprocess mode (a
temporary folder) so ``/metrics`` on any worker reports the whole server.

Logging: uvicorn's own access log is off (it would log query strings); the app logs one line per
request with method, path, status, time and request id -- never a body, a query string or a
profile.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from api.settings import METRICS_VARIABLE, Settings, for_worker, to_worker


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


def app_for_worker():
    """uvicorn factory for worker processes: the settings their server passed."""
    from api.app import create_app

    return create_app(for_worker())


def serve(settings: Settings | str | os.PathLike, keys_file: str | os.PathLike | None = None,
          host: str = "127.0.0.1", port: int = 8000, workers: int = 1, *,
          access_log: bool = True, log_level: str = "info", **fields) -> None:
    """Serve until interrupted. ``settings``: a ``Settings``, or a models dir (then the settings
    come from the environment, with ``keys_file`` and ``fields`` winning)."""
    import uvicorn

    if not isinstance(settings, Settings):
        settings = Settings.from_env(models_dir=settings, keys_file=keys_file, **fields)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    models_dir = Path(settings.models_dir)
    if not models_dir.is_dir():
        raise FileNotFoundError(f"models directory {models_dir} does not exist")
    if settings.keys_file is not None and not Path(settings.keys_file).is_file():
        raise FileNotFoundError(f"API keys file {settings.keys_file} does not exist "
                                f"(create one with: servicematch keys add --role admin --keys {settings.keys_file})")
    common = dict(host=host, port=port, access_log=False, log_config=log_config(access_log, log_level),
                  server_header=False)
    if workers == 1:
        from api.app import create_app

        uvicorn.run(create_app(settings), **common)
        return

    settings = settings.with_(models_dir=models_dir.resolve(),
                              keys_file=Path(settings.keys_file).resolve() if settings.keys_file else None)
    own_metrics_dir = None
    if settings.metrics_dir is None:
        own_metrics_dir = tempfile.mkdtemp(prefix="servicematch-metrics-")
        settings = settings.with_(metrics_dir=own_metrics_dir)
    # The workers' one value; prometheus_client reads its folder from the environment itself.
    os.environ.update(to_worker(settings))
    os.environ[METRICS_VARIABLE] = settings.metrics_dir
    try:
        uvicorn.run("api.serve:app_for_worker", factory=True, workers=workers, **common)
    finally:
        if own_metrics_dir is not None:
            shutil.rmtree(own_metrics_dir, ignore_errors=True)
