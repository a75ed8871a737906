"""``servicematch retrain``: the periodic job, in one command.

    servicematch retrain --models models/ --data data/city [--dry-run]

1. Read the feedback the API recorded in its state store (the SQLite file next to the models, or
   Redis with ``REDIS_URL``), through the store's public methods only, read-only: every event, and
   the stored profile of every resident those events are about.
2. Write them, in a private temporary folder (mode 0700, removed afterwards: they are resident
   data), as an extra interactions file and an extra residents file. A resident the data folder
   does not have reaches training through the residents file; one it has is replaced by the newer
   profile recorded through the API.
3. Train on the data folder plus that feedback (``training.pipeline.train``), which evaluates the new
   model and the current one on the same holdout and promotes only a better one.
4. Write the trainer's report (``training.report``), ``<models>/report.html`` by default.

Events about a service no longer in the catalogue are counted and skipped, never fatal; events of a
resident with neither a row in the data folder nor a stored profile are kept (training adds them
without a profile).

``--dry-run`` trains and decides in a scratch models folder that only links the current version:
the decision is printed, the models folder and its CURRENT are left exactly as they were.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from recommender import artifacts

from .pipeline import TrainReport, train
from .report import write_report
from .tables import load_data_dir, write_table


@dataclass
class Feedback:
    events: pd.DataFrame
    residents: pd.DataFrame
    new_residents: int = 0
    updated_residents: int = 0
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass
class RetrainResult:
    feedback: Feedback
    report: TrainReport
    dry_run: bool
    report_path: Path | None = None


def _cell(value):
    """A stored profile value as a cell of the residents table (lists ``;``-joined)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    return value


def open_state(models_dir: Path, redis_url: str | None):
    """The API's store, or None when the embedded one was never created (nothing recorded yet)."""
    from api.state import SQLITE_NAME, open_store

    if not redis_url and not (Path(models_dir) / SQLITE_NAME).exists():
        return None
    return open_store(models_dir, redis_url=redis_url)


def read_feedback(store, *, service_ids: set[str], residents: pd.DataFrame) -> Feedback:
    """Events and profiles from the store, as frames in the data contract's columns."""
    columns = list(residents.columns)
    known = set(residents["resident_id"])
    skipped = {"unknown service": 0}
    rows, profiles = [], {}
    for event in store.iter_events():
        rid = event["resident_id"]
        if event["service_id"] not in service_ids:
            skipped["unknown service"] += 1
            continue
        if rid not in profiles:
            profiles[rid] = store.get_profile(rid)
        # a resident with neither a row nor a stored profile still has this history: training adds
        # them without a profile (training.pipeline.with_event_residents)
        rows.append({"resident_id": rid, "service_id": event["service_id"], "event": event["event"],
                     "timestamp": int(event["timestamp"])})
    # As the API serves them: a stored profile lies over the training row of a resident it has.
    base = residents.set_index("resident_id")
    stored = []
    for rid, profile in profiles.items():
        if profile is None:
            continue
        row = {c: _cell(base.at[rid, c]) for c in columns[1:]} if rid in known else {}
        row.update({k: _cell(v) for k, v in profile.items() if k in columns and k != "resident_id"})
        stored.append({"resident_id": rid, **row})
    people = pd.DataFrame(stored, columns=columns)
    new = int((~people["resident_id"].isin(known)).sum())
    events = pd.DataFrame(rows, columns=["resident_id", "service_id", "event", "timestamp"])
    return Feedback(events=events, residents=people, new_residents=new, updated_residents=len(people) - new,
                    skipped={k: v for k, v in skipped.items() if v})


#: Files of a models folder that training may read besides the versions (the API's state store and
#: the secret its erasure records are keyed with): a dry run's scratch folder links them.
SHARED_FILES = ("state.sqlite3", "secret.key")


def _scratch_models(models_dir: Path, work: Path) -> Path:
    """A models folder for a dry run: it links the current version and the shared files, so training
    sees what it would see in ``models_dir``, and whatever it writes stays in ``work``."""
    scratch = work / "models"
    scratch.mkdir()
    current = artifacts.current_version(models_dir)
    if current is not None:
        (scratch / current).symlink_to((models_dir / current).resolve(), target_is_directory=True)
        artifacts.set_current(scratch, current)
    for name in SHARED_FILES:
        if (models_dir / name).is_file():
            (scratch / name).symlink_to((models_dir / name).resolve())
    return scratch


def retrain(data_dir, models_dir, *, redis_url: str | None = None, dry_run: bool = False,
            report_out: str | Path | None = None, **train_options) -> RetrainResult:
    """Train on the data folder plus the API's recorded feedback; gate, promote, write the report.

    ``train_options`` go to :func:`training.pipeline.train` (epochs, eval_residents, seed, ...).
    """
    data_dir, models_dir = Path(data_dir), Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    data = load_data_dir(data_dir)
    store = open_state(models_dir, redis_url)
    try:
        feedback = (read_feedback(store, service_ids=set(data.services["service_id"]), residents=data.residents)
                    if store is not None else
                    Feedback(pd.DataFrame(columns=["resident_id", "service_id", "event", "timestamp"]),
                             data.residents.iloc[:0]))
    finally:
        if store is not None:
            store.close()
    del data  # training loads and validates the folder again, with the feedback

    work = Path(tempfile.mkdtemp(prefix=".retrain-", dir=models_dir))  # 0700: resident data
    try:
        extra_residents, extra_interactions = [], []
        if len(feedback.residents):
            write_table(feedback.residents, work / "residents.csv")
            extra_residents.append(work / "residents.csv")
        if len(feedback.events):
            write_table(feedback.events, work / "interactions.csv")
            extra_interactions.append(work / "interactions.csv")
        target = _scratch_models(models_dir, work) if dry_run else models_dir
        report = train(data_dir, target, extra_interactions=extra_interactions, extra_residents=extra_residents,
                       **train_options)
        report_path = None
        if not dry_run:
            report_path = write_report(models_dir, report_out or models_dir / "report.html")
        return RetrainResult(feedback=feedback, report=report, dry_run=dry_run, report_path=report_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
