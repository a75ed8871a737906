"""``servicematch train`` end to end: load, split, fit, evaluate, save a version, promote if better."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender import artifacts
from recommender.catalog import ServiceCatalog
from recommender.columns import encode_table
from recommender.eligibility import checks_for, evaluate
from recommender.eligibility.checks import CatalogColumns
from recommender.eligibility.listing import read_listing_rules
from recommender.engine import Recommender
from recommender.files import sha256_file
from recommender.features import ResidentFeaturizer, ServiceFeaturizer, profiles_at
from recommender.schema import POSITIVE_EVENTS, RESIDENT_LISTS, RESIDENT_NUMERIC, RESIDENT_OPTIONAL
from recommender.signals import local_fit

from .equity import group_metrics
from .erasure import drop_erased
from .evaluate import evaluate_holdout
from .fit import EASE_MAX_SERVICES, FitData, HybridTrainer
from .promote import compare, decide, promotion_lock
from .split import split_interactions
from .tables import (CityData, load_data_dir, load_interactions, load_residents,  # noqa: F401 (re-exported)
                     load_taxonomy)



@dataclass
class TrainReport:
    version: str
    folder: Path
    metrics: dict
    promoted: bool
    reason: str
    timing: dict = field(default_factory=dict)


def _csr_of(df: pd.DataFrame, n_rows: int, n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    m = sp.csr_matrix((np.ones(len(df), dtype=np.int8), (df["r"].to_numpy(), df["s"].to_numpy())),
                      shape=(n_rows, n_cols))
    m.sum_duplicates()
    m.sort_indices()
    return m.indptr.astype(np.int64), m.indices.astype(np.int32)


def needs_and_eligibility(catalog: ServiceCatalog, residents: pd.DataFrame, rows: np.ndarray,
                          columns: CatalogColumns | None = None
                          ) -> tuple[list[dict[str, np.ndarray]], np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """For the residents at ``rows``: declared need -> the services answering it, their eligibility
    outcomes over every service, and the services local to them (``recommender.signals.local_fit``),
    as served. ``columns``: the catalogue's check columns, when the caller keeps them (validation
    calls this once per batch; building them costs 4.8 ms on 50,000 services, measured)."""
    profiles = profiles_at(residents, rows)
    out = np.zeros((len(profiles), len(catalog)), dtype=np.int8)
    checks, columns = checks_for(catalog), columns if columns is not None else CatalogColumns(catalog)
    for n, p in enumerate(profiles):
        out[n] = evaluate(catalog, p, checks=checks, columns=columns).outcome
    return [{need: catalog.answers(need) for need in p.needs} for p in profiles], out, local_fit(catalog, profiles)


def with_event_residents(residents: pd.DataFrame, path, say=print) -> pd.DataFrame:
    """``residents`` plus a profile-less row for each resident an events file names that it lacks:
    feedback recorded by the API for a walk-in is history all the same (their profile, where the API
    stored one, comes with ``extra_residents``)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        ids = pd.read_parquet(path, columns=["resident_id"])["resident_id"]
    elif path.suffix.lower() == ".csv":
        ids = pd.read_csv(path, usecols=lambda c: c.strip().lower() == "resident_id", dtype=str).iloc[:, 0]
    else:
        return residents  # load_interactions names the unsupported file type
    new = pd.unique(ids.dropna().astype(str).str.strip())
    new = new[~pd.Index(new).isin(residents["resident_id"])]
    if len(new) == 0:
        return residents
    say(f"{path}: {len(new):,} residents not in the residents table, added without a profile")
    return pd.concat([residents, pd.DataFrame({"resident_id": new}).reindex(columns=residents.columns)],
                     ignore_index=True)


def validation_mode(train: pd.DataFrame, holdout: pd.DataFrame) -> str:
    """"time" when the holdout lies after training (the usual case, and the time split's), "random" when
    most of it falls inside the training span (a holdout file drawn at random per resident): the ranker
    is chosen on a validation slice that looks like what the model is judged on."""
    if len(train) == 0 or len(holdout) == 0:
        return "time"
    inside = holdout["timestamp"].to_numpy() < np.quantile(train["timestamp"].to_numpy(), 0.9)
    return "random" if inside.mean() > 0.5 else "time"


def coordinates(residents: pd.DataFrame) -> np.ndarray:
    cols = [c for c in ("latitude", "longitude") if c in residents.columns]
    if len(cols) < 2:
        return np.full((len(residents), 2), np.nan)
    return residents[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)


def resident_kinds(residents: pd.DataFrame, extra: list[str]) -> dict[str, str]:
    kinds = {}
    for col in RESIDENT_OPTIONAL:
        kinds[col] = "num" if col in RESIDENT_NUMERIC else "list" if col in RESIDENT_LISTS else "cat"
    for col in extra:
        kinds[col] = "cat"
    return {c: k for c, k in kinds.items() if c in residents.columns}


def _fingerprint(data: CityData, extra_files: list[Path]) -> dict:
    fp = {k: v for k, v in data.source.items()}
    for p in extra_files:
        fp[str(p)] = sha256_file(p)
    return fp


def _versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("lightfm-next", "numpy", "scipy", "scikit-learn", "pandas"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


def build_parts(*, version: str, trainer: HybridTrainer, catalog: ServiceCatalog, featurizer: ResidentFeaturizer,
                residents: pd.DataFrame, resident_extra: list[str], train: pd.DataFrame, info: dict
                ) -> tuple[dict, dict, dict]:
    """(arrays, model meta, catalogue JSON) of a trained model, as saved and as loaded."""
    n_res, n_items = len(residents), len(catalog)
    arrays = dict(trainer.model_.arrays())
    arrays["resident_ids"] = residents["resident_id"].to_numpy().astype(str)
    arrays["warm_rows"] = trainer.warm_rows_
    res_arrays, res_meta = encode_table(
        residents.assign(disability=residents["disability"].map({True: "true", False: "false"})
                         if "disability" in residents.columns else None),
        resident_kinds(residents, resident_extra), prefix="resident.")
    arrays.update(res_arrays)
    used = train[train["event"].isin(POSITIVE_EVENTS)]
    arrays["used.indptr"], arrays["used.indices"] = _csr_of(used, n_res, n_items)
    arrays["declined.indptr"], arrays["declined.indices"] = _csr_of(train[train["event"] == "declined"], n_res, n_items)
    positive = train[(train["event"] != "declined") & (train["weight"] > 0)]
    arrays["history.indptr"], arrays["history.indices"] = _csr_of(positive, n_res, n_items)
    meta = dict(info, version=version, model=trainer.model_.meta(), featurizer=featurizer.get_params_json(),
                residents=res_meta)
    return arrays, meta, catalog.to_json()


def train(data_dir, models_dir, *, holdout_file=None, extra_interactions=(), extra_residents=(),
          cold_residents: float = 0.1,
          holdout_fraction: float = 0.2, epochs: int = 20, no_components: int = 32, learning_rate: float = 0.05,
          loss: str = "warp", alpha: float = 0.0, eval_residents: int = 2_000, seed: int = 0,
          num_threads: int = 2, force: bool = False, quiet: bool = False, log=print) -> TrainReport:
    progress = not quiet
    say = (lambda *a: None) if quiet else log
    timing: dict[str, float] = {}
    t0 = time.perf_counter()
    data_dir, models_dir = Path(data_dir), Path(models_dir)
    data = load_data_dir(data_dir, quiet=quiet)
    taxonomy = load_taxonomy(data_dir)
    extra_files = [Path(p) for p in (*extra_residents, *extra_interactions)]
    for path in extra_residents:  # residents recorded elsewhere (the API): a newer profile replaces the old
        more, _ = load_residents(path)
        kept = data.residents[~data.residents["resident_id"].isin(more["resident_id"])]
        data.residents = pd.concat([kept, more.reindex(columns=kept.columns)], ignore_index=True)
    for path in extra_interactions:  # feedback for residents the data never had (walk-ins served by the API)
        data.residents = with_event_residents(data.residents, path, say)
    interactions = data.interactions
    for path in extra_interactions:
        interactions = pd.concat([interactions, load_interactions(path, services=data.services,
                                                                  residents=data.residents)], ignore_index=True)
    holdout = None
    if holdout_file is not None:
        holdout = load_interactions(holdout_file, services=data.services, residents=data.residents)
        extra_files.append(Path(holdout_file))
    data, interactions, holdout = drop_erased(models_dir, data, interactions, holdout)
    timing["load"] = time.perf_counter() - t0
    say(f"loaded {len(data.residents):,} residents, {len(data.services):,} services, "
        f"{len(interactions):,} interactions ({timing['load']:.1f}s)")

    t = time.perf_counter()
    split = split_interactions(interactions, fraction=holdout_fraction, holdout=holdout,
                               cold_fraction=cold_residents, seed=seed)
    catalog = ServiceCatalog.from_frame(data.services, taxonomy, data.service_extra_columns,
                                          read_rules=read_listing_rules)
    featurizer = ResidentFeaturizer()
    X = featurizer.fit_transform(data.residents, catalog.taxonomy, data.resident_extra_columns)
    # the text's n-grams only where training uses them: the new-service map of a small catalogue
    service_featurizer = ServiceFeaturizer(text=len(catalog) <= EASE_MAX_SERVICES)
    service_features = service_featurizer.fit_transform(catalog)
    res_index = pd.Index(data.residents["resident_id"])
    train_df = split.train.assign(r=res_index.get_indexer(split.train["resident_id"]),
                                  s=pd.Index(catalog.ids).get_indexer(split.train["service_id"]))
    check_columns = CatalogColumns(catalog)  # once for every validation batch
    fit_data = FitData(resident_ids=data.residents["resident_id"].to_numpy(), X=X,
                       service_features=service_features,
                       service_tokens=service_features[:, :len(service_featurizer.vocabulary_)].tocsr(),
                       needs_and_eligibility=lambda rows: needs_and_eligibility(catalog, data.residents, rows,
                                                                                check_columns),
                       coords=coordinates(data.residents), service_lat=catalog.latitude,
                       service_lon=catalog.longitude, interactions=train_df)
    timing["features"] = time.perf_counter() - t

    trainer = HybridTrainer(no_components=no_components, epochs=epochs, learning_rate=learning_rate, loss=loss,
                            item_alpha=alpha, user_alpha=alpha, num_threads=num_threads, random_state=seed,
                            validation=validation_mode(split.train, split.holdout), progress=progress).fit(fit_data)
    timing.update({f"fit_{k}": v for k, v in trainer.timing_.items()})

    now = dt.datetime.now(dt.timezone.utc)
    version = now.strftime("%Y%m%dT%H%M%SZ") + "-" + hashlib.sha256(
        json.dumps(data.source, sort_keys=True).encode() + str(time.time_ns()).encode()).hexdigest()[:6]
    through = int(split.train["timestamp"].max()) if len(split.train) else None
    info = {"trained_at": now.isoformat(timespec="seconds"), "trained_through": through,
            "params": trainer.get_params(), "split": split.info, "data_fingerprint": _fingerprint(data, extra_files),
            "libraries": _versions(), "data_dir": str(data_dir), "cold_services": trainer.cold_services_,
            "hybrid": trainer.hybrid_}
    arrays, meta, catalog_json = build_parts(version=version, trainer=trainer, catalog=catalog, featurizer=featurizer,
                                             residents=data.residents, resident_extra=data.resident_extra_columns,
                                             train=train_df, info=info)
    rec = Recommender.from_parts(arrays, meta, catalog_json, {}, catalog=catalog)

    t = time.perf_counter()
    metrics = evaluate_holdout(rec, residents=data.residents, train=split.train, holdout=split.holdout,
                               max_residents=eval_residents, seed=seed, progress=progress, threads=num_threads)
    per_resident = metrics.pop("per_resident")
    # the equity audit: every figure per district, language, age band, disability, gender
    metrics["groups"] = group_metrics(per_resident, data.residents)
    timing["evaluate"] = time.perf_counter() - t
    metrics["data"] = {"residents": int(len(data.residents)), "services": int(len(data.services)),
                       "interactions": int(len(interactions)), **split.info, **metrics.pop("counts")}
    metrics["ranker"] = trainer.ranker_.to_json()

    with promotion_lock(models_dir):
        t = time.perf_counter()
        current = artifacts.current_version(models_dir)
        comparison, diff, error = None, None, None
        if current is not None and not force:
            try:
                old = Recommender.load(models_dir / current)
                comparison, diff = compare(old, rec, residents=data.residents, train=split.train,
                                           holdout=split.holdout, seed=seed, progress=progress,
                                           threads=num_threads)
            except (artifacts.ModelFileError, ValueError, KeyError) as e:
                error = str(e)
            timing["compare_current"] = time.perf_counter() - t
        promoted, reason = decide(comparison, diff, current, force=force, error=error, seed=seed)
        timing["total"] = time.perf_counter() - t0
        metrics["timing"] = {k: round(v, 2) for k, v in timing.items()}
        metrics["promotion"] = {"current_before": current, "promoted": promoted, "reason": reason,
                                "comparison": None if comparison is None else comparison.to_json()}
        folder = artifacts.save_version(models_dir, version, arrays, meta, catalog_json, metrics)
        if promoted:
            artifacts.set_current(models_dir, version)
    return TrainReport(version, folder, metrics, promoted, reason, timing)
