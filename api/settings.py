"""The API's settings: one typed object, read from the environment here and nowhere else in api/.

    settings = Settings.from_env()                      # SERVICEMATCH_* variables (and REDIS_URL)
    settings = Settings(models_dir="models", keys_file="keys.toml", cache=False)   # in code / tests

Every variable is ``SERVICEMATCH_`` + the field name in capitals (``SERVICEMATCH_CACHE=off``,
``SERVICEMATCH_RATE_LIMIT_PER_KEY=500``); ``REDIS_URL`` is accepted for the Redis URL. Worker
processes of ``servicematch serve --workers N`` receive the settings as one value (their JSON,
:func:`to_worker` / :func:`for_worker`) rather than as loose environment variables.
"""
from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api import limits

#: The one variable a worker process reads: the serialised settings of the server that spawned it.
WORKER_VARIABLE = "SERVICEMATCH_WORKER_SETTINGS"
#: prometheus_client reads its multiprocess folder from the environment itself.
METRICS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEMATCH_", frozen=True, extra="ignore",
                                      populate_by_name=True)

    models_dir: Path = Field(Path("models"), description="models root (CURRENT + version folders)")
    keys_file: Path | None = Field(None, description="API keys file (none: every key is refused)")
    redis_url: str | None = Field(None, validation_alias=AliasChoices(
        "redis_url", "SERVICEMATCH_REDIS_URL", "REDIS_URL"),
        description="shared state in Redis; none: SQLite beside the models")
    cache: bool = Field(True, description="cache the portal's answers (off: compute every time)")
    refresh_interval: float = Field(2.0, gt=0, le=60, description="seconds between model polls")
    #: the secret of keyed hashes (audit ids, profile hashes, erasure tombstones); created 0600 on
    #: first use. Replicas sharing one Redis must share this file.
    secret_file: Path | None = Field(None, description="default: <models_dir>/secret.key")
    #: resident tokens: a PEM public key; when set, portal calls must carry X-Resident-Token (a JWT
    #: whose ``sub`` is the resident id) and are served only for that resident
    resident_token_key_file: Path | None = None
    resident_token_algorithms: tuple[str, ...] = ("RS256", "ES256", "EdDSA")
    resident_token_audience: str | None = None
    rate_limit_per_key: int = Field(limits.RATE_LIMIT_PER_KEY, ge=1)
    events_per_key_per_minute: int = Field(limits.EVENTS_PER_KEY_PER_MINUTE, ge=1)
    max_events_per_resident: int = Field(limits.MAX_EVENTS_PER_RESIDENT, ge=1)
    history_limit: int = Field(limits.HISTORY_LIMIT, ge=1)
    min_free_bytes: int = Field(limits.MIN_FREE_BYTES, ge=0)
    max_body: int = Field(limits.MAX_BODY, ge=1024)
    audit_max_pending: int = Field(10_000, ge=1)
    engine_threads: int = Field(2, ge=1, le=64, description="requests ranked at once per process; more wait")
    metrics_dir: str | None = Field(None, validation_alias=AliasChoices(
        "metrics_dir", METRICS_VARIABLE), description="Prometheus multiprocess folder")

    @field_validator("redis_url", "metrics_dir", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """The environment, with explicit values (command-line options) winning."""
        return cls(**{k: v for k, v in overrides.items() if v is not None})

    def with_(self, **changes) -> "Settings":
        return self.model_copy(update=changes)

    @property
    def secret_path(self) -> Path:
        return self.secret_file or Path(self.models_dir) / "secret.key"


def to_worker(settings: Settings) -> dict[str, str]:
    """The environment of worker processes: the settings as one JSON value."""
    return {WORKER_VARIABLE: settings.model_dump_json()}


def for_worker() -> Settings:
    """In a worker process: the settings its server passed (see :func:`to_worker`)."""
    raw = os.environ.get(WORKER_VARIABLE)
    if not raw:
        raise RuntimeError(f"{WORKER_VARIABLE} is not set (start the server with servicematch serve)")
    return Settings.model_validate_json(raw)


def metrics_dir_from_env() -> str | None:
    """prometheus_client's multiprocess folder (it reads the same variable itself)."""
    return os.environ.get(METRICS_VARIABLE) or None
