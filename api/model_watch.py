"""The model being served, and the background thread that swaps in a new one.

A request reads ``holder.current`` once and uses that object to the end, so a swap never mixes
two models in one answer. A new model is loaded completely (off the request path) before the
reference is replaced -- a single attribute store, atomic in CPython -- so no request fails or
waits during a reload.

The refresher polls, every ``interval`` seconds: ``models/CURRENT`` (mtime and content) and the
store's model-version notice (published by ``POST /v1/model/reload`` on any replica). The API
keys refresh themselves (``api.auth.KeyStore``), so nothing here can delay a revocation.

A new version is checked before it is swapped in: its files against their checksums and
``model.json`` against its schema (``recommender.artifacts``), then one walk-in suggestion must
come back with finite scores. A version that fails is refused and the old one keeps serving;
the error says what failed without absolute paths or library internals (``safe_error``).
"""
from __future__ import annotations

import logging
import math
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from api import heap
from recommender.schema import (DEFAULT_STATUS, SERVICE_LISTS, SERVICE_NUMERIC, SERVICE_OPTIONAL,
                                SERVICE_REQUIRED, split_list)

log = logging.getLogger("servicematch.model")


def _clean(name: str, value: Any) -> Any:
    """A catalogue cell as JSON: lists split, NaN -> None, numbers as numbers."""
    if name in SERVICE_LISTS:
        return split_list(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if name in SERVICE_NUMERIC:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        if not math.isfinite(number):
            return None
        return int(number) if name == "capacity" else number
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    return str(value) if value != "" else None


@dataclass(frozen=True)
class LoadedModel:
    """A recommender plus what the API derives from it once per load (not per request)."""

    rec: Any
    version: str
    trained_at: str | None
    metrics: dict
    loaded_at: str
    #: service_id -> the catalogue row as served by GET /v1/services (before overrides)
    services: dict[str, dict] = field(repr=False)

    @classmethod
    def wrap(cls, rec: Any) -> "LoadedModel":
        services: dict[str, dict] = {}
        for sid in rec.service_ids:
            row = rec.service(sid) or {}
            item = {name: _clean(name, row.get(name)) for name in SERVICE_REQUIRED + SERVICE_OPTIONAL}
            item["service_id"] = str(sid)
            item["name"] = item["name"] or str(sid)
            item["status"] = item["status"] or DEFAULT_STATUS
            services[str(sid)] = item
        trained_at = getattr(rec, "trained_at", None)
        return cls(rec=rec, version=str(rec.version),
                   trained_at=str(trained_at) if trained_at is not None else None,
                   metrics=dict(getattr(rec, "metrics", None) or {}),
                   loaded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   services=services)


def default_loader(path: Path) -> Any:
    from recommender.engine import Recommender

    return Recommender.load(path)


def smoke_test(rec: Any) -> None:
    """One walk-in suggestion must work and score finitely, or the version is not served."""
    if not getattr(rec, "service_ids", None):
        return
    result = rec.recommend(profile={}, k=1, explain=True)
    for item in result.items:
        if not math.isfinite(float(item.score)):
            raise ValueError("the model scores services as NaN or infinite")


def safe_error(exc: BaseException, models_dir: Path) -> str:
    """What a failed load says to clients and logs: the file at fault relative to the models
    folder, and no traceback text from numpy or other libraries."""
    from recommender.artifacts import ModelFileError

    if isinstance(exc, (ModelFileError, FileNotFoundError)):
        text = str(exc)
        for root in {str(models_dir.resolve()), str(models_dir.absolute()), str(models_dir)}:
            text = text.replace(root + os.sep, "").replace(root, "models")
        # A path outside the models folder (a version symlinked elsewhere) is cut to its last parts.
        return " ".join(_tail(word) for word in text.split(" "))
    return f"the model files are inconsistent ({type(exc).__name__})"


def _tail(word: str) -> str:
    if os.sep in word and os.path.isabs(word.strip("'\":,()")):
        return os.sep.join(word.split(os.sep)[-2:])
    return word


class ModelHolder:
    def __init__(self, models_dir: str | os.PathLike, loader: Callable[[Path], Any] = default_loader,
                 on_swap: Callable[[LoadedModel], None] | None = None):
        self.models_dir = Path(models_dir)
        self.loader = loader
        self.on_swap = on_swap
        self._lock = threading.Lock()  # one load at a time (the refresher and POST /reload)
        self._stamp = self.current_stamp()
        #: a model was swapped in: the heap is settled (api.heap) at the refresher's next poll
        self.settle_pending = False
        self.current: LoadedModel = self._load(self.models_dir)
        if on_swap:
            on_swap(self.current)

    def current_stamp(self) -> tuple | None:
        """(mtime_ns, content) of models/CURRENT; None when serving a version folder directly."""
        pointer = self.models_dir / "CURRENT"
        try:
            st = pointer.stat()
            return (st.st_mtime_ns, pointer.read_text().strip())
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, UnicodeDecodeError) as exc:  # unreadable: a change to report, not a crash
            return ("unreadable", type(exc).__name__)

    def _load(self, path: Path) -> LoadedModel:
        rec = self.loader(path)
        smoke_test(rec)
        return LoadedModel.wrap(rec)

    def reload(self, version: str | None = None) -> tuple[LoadedModel, LoadedModel]:
        """Load the model CURRENT points to (or the given version folder), then swap it in.
        Returns (previous, new).

        Raises whatever the loader raises; the model being served is then left in place.
        """
        with self._lock:
            stamp = self.current_stamp()
            path = self.models_dir if version is None else self.models_dir / version
            try:
                if version is not None:
                    from recommender.artifacts import check_version_name

                    check_version_name(version, self.models_dir)
                new = self._load(path)
            except BaseException:
                if version is None:
                    self._stamp = stamp  # tried: not again until CURRENT changes
                raise
            previous, self.current = self.current, new
            self.settle_pending = True
            if version is None:
                self._stamp = stamp
        if self.on_swap:
            self.on_swap(new)
        log.info("model %s loaded (was %s)", new.version, previous.version)
        return previous, new

    def pointer_changed(self) -> bool:
        return self.current_stamp() != self._stamp


class Refresher:
    """The background thread: reloads the model and the API keys when they change."""

    def __init__(self, holder: ModelHolder, store, metrics, interval: float = 2.0):
        self.holder, self.store, self.metrics = holder, store, metrics
        self.interval = interval
        #: why the last reload failed (None after a success), for /readyz
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._notice = self._read_notice()

    def _read_notice(self) -> str | None:
        try:
            return self.store.model_version_notice()
        except Exception:  # noqa: BLE001 -- an unreachable store must not stop the polling
            return None

    def check(self) -> bool:
        """One poll; True when a new model was swapped in.

        A changed CURRENT wins. Otherwise a new notice (another replica reloaded) makes this one
        load that version's folder, when it has it, else whatever CURRENT names.
        """
        reason = version = None
        if self.holder.pointer_changed():
            reason = "models/CURRENT changed"
        notice = self._read_notice()
        if notice is not None and notice != self._notice:
            self._notice = notice
            if reason is None and notice != self.holder.current.version:
                reason = f"store notice: version {notice}"
                folder = self.holder.models_dir / notice
                if "/" not in notice and notice not in (".", "..") and folder.is_dir():
                    version = notice
        if reason is None:
            return False
        try:
            self.holder.reload(version)
        except Exception as exc:  # noqa: BLE001 -- a broken new model must not take the old one down
            self.metrics.model_reloads.labels("failed").inc()
            self.last_error = safe_error(exc, self.holder.models_dir)
            log.error("model reload (%s) failed: %s; still serving %s", reason,
                      self.last_error, self.holder.current.version)
            return False
        self.metrics.model_reloads.labels("ok").inc()
        self.last_error = None
        return True

    def poll(self) -> bool:
        """What the thread does every ``interval``: settle the heap after the previous poll's swap
        (the requests that held the old model are done by now), then :meth:`check`."""
        if self.holder.settle_pending:
            self.holder.settle_pending = False
            heap.settle()
        return self.check()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:  # noqa: BLE001
                log.exception("model refresher poll failed")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="servicematch-refresher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
