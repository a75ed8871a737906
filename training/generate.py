"""Synthetic city generator (MODEL DOC TODO)."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .generate_catalog import generate_catalog, taxonomy_frame
from .generate_population import default_districts
from .generate_usage import synthesise_usage

FORMATS = ("csv", "parquet")
_CATALOG = 17


def write_arrow(table: pa.Table, path: str | os.PathLike) -> None:
    """Write ``table`` as CSV or Parquet (by extension) atomically: temp file, fsync, rename."""
    target = Path(path)
    fmt = target.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"{target}: unsupported file type {target.suffix!r}; use .csv or .parquet")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if fmt == "csv":
                pacsv.write_csv(table, f)
            else:
                pq.write_table(table, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def generate_city(
    out_dir: str | os.PathLike, *, residents: int = 100_000, services: int = 2_000,
    interactions_per_resident: float = 12.0, seed: int = 7, fmt: str = "csv", progress: bool = True,
    n_jobs: int = 1,
) -> dict:
    """Write a synthetic city's data directory; return counts, seconds per phase and file paths."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    if services < 1:
        raise ValueError(f"services must be at least 1, got {services}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    districts = default_districts()
    t0 = time.perf_counter()
    catalog = generate_catalog(services, districts, np.random.default_rng([seed, _CATALOG]))
    seconds = {"catalog": time.perf_counter() - t0}
    residents_tbl, interactions, phases = synthesise_usage(
        catalog, residents=residents, seed=seed, taxonomy=taxonomy_frame(),
        interactions_per_resident=interactions_per_resident, districts=districts,
        progress=progress, n_jobs=n_jobs)
    seconds.update(phases)
    t0 = time.perf_counter()
    need_codes = pc.list_flatten(pc.split_pattern(residents_tbl.column("needs").drop_null(), ";"))
    used = sorted({c for v in catalog["categories"].dropna() for c in v.split(";")}
                  | set(pc.unique(need_codes).to_pylist()))
    tables = {
        "services": pa.Table.from_pandas(catalog, preserve_index=False),
        "residents": residents_tbl,
        "interactions": interactions,
        "taxonomy": pa.Table.from_pandas(taxonomy_frame(used), preserve_index=False),
    }
    files = {}
    for name, table in tables.items():
        path = out / f"{name}.{fmt if name != 'taxonomy' else 'csv'}"
        write_arrow(table, path)
        files[name] = str(path)
        # A table must exist in one format only: drop the other one left by an earlier run.
        stale = path.with_suffix(".parquet" if path.suffix == ".csv" else ".csv")
        if name != "taxonomy" and stale.exists():
            stale.unlink()
    seconds["write"] = time.perf_counter() - t0
    seconds["total"] = time.perf_counter() - started
    return {
        "residents": residents_tbl.num_rows,
        "services": len(catalog),
        "interactions": interactions.num_rows,
        "taxonomy": tables["taxonomy"].num_rows,
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "files": files,
    }
